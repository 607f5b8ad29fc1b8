/** The demo's only stylesheet, served at /style.css: readable on a phone, no build step. */
export const STYLESHEET = `
:root { color-scheme: light dark; --accent: #1f5fbf; --warn-bg: #fff4d6; --warn-fg: #5c4300; --error-fg: #a1161b; }
* { box-sizing: border-box; }
body { margin: 0; font: 1rem/1.5 system-ui, sans-serif; }
header, main, footer { max-width: 36rem; margin: 0 auto; padding: 1rem; }
header { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; border-bottom: 1px solid #8884; }
header a { font-weight: 600; text-decoration: none; }
h1 { font-size: 1.5rem; }
a { color: var(--accent); }
form { margin: 1rem 0; }
label { display: block; font-weight: 600; margin-top: 0.75rem; }
input[type=text], input[type=password] { width: 100%; padding: 0.6rem; font-size: 1.1rem; margin-top: 0.25rem; }
button { margin-top: 1rem; padding: 0.6rem 1.2rem; font-size: 1rem; cursor: pointer; }
button.link { background: none; border: none; color: var(--accent); text-decoration: underline; padding: 0; margin: 0; }
.hint { color: #666; font-size: 0.9rem; margin: 0.25rem 0 0; }
.error { color: var(--error-fg); font-weight: 600; }
.notice { border-left: 4px solid var(--accent); padding: 0.5rem 1rem; }
.warning { background: var(--warn-bg); color: var(--warn-fg); padding: 0.75rem 1rem; border-radius: 4px; }
.secret, .codes { font-family: ui-monospace, monospace; font-size: 1.05rem; letter-spacing: 0.05em; overflow-wrap: anywhere; }
.codes { columns: 2; column-gap: 2.5rem; padding-left: 2.5rem; }
.codes li { break-inside: avoid; }
img.qr { width: 216px; height: 216px; image-rendering: pixelated; background: #fff; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
`;
