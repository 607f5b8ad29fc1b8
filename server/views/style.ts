/** The demo's only stylesheet, served at /style.css: readable on a phone, no build step. */
export const STYLESHEET = `
/* Every text colour is paired with a background set here, not left to the browser, so the
   contrast (WCAG AA, at least 4.5:1) is known in both schemes. Dark: #121212 is Chromium's own. */
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #000000; --hint-fg: #666666; --accent: #1f5fbf; --error-fg: #a1161b;
  --warn-bg: #fff4d6; --warn-fg: #5c4300; --focus: #1f5fbf;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #121212; --fg: #e8e8e8; --hint-fg: #9e9e9e; --accent: #8ab4f8; --error-fg: #ff8a80;
    --warn-bg: #3a2c00; --warn-fg: #ffe08a; --focus: #8ab4f8;
  }
}
* { box-sizing: border-box; }
body { margin: 0; font: 1rem/1.5 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header, main, footer { max-width: 36rem; margin: 0 auto; padding: 1rem; }
header { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; border-bottom: 1px solid #8884; }
header a, header button.link { font-weight: 600; text-decoration: none; }
header form { margin: 0; }
/* Signed in: the name and Sign out, side by side, wrapping under each other before they overflow a phone. */
header nav { display: flex; flex-wrap: wrap; justify-content: flex-end; align-items: baseline; gap: 0.25rem 1rem; min-width: 0; }
header nav a { overflow-wrap: anywhere; }
header button.link { padding: 0.25rem 0; }
h1 { font-size: 1.5rem; }
a { color: var(--accent); }
form { margin: 1rem 0; }
label { display: block; font-weight: 600; margin-top: 0.75rem; }
input[type=text], input[type=password] { width: 100%; padding: 0.6rem; font-size: 1.1rem; margin-top: 0.25rem; }
.check { margin: 0.75rem 0 0; display: flex; align-items: center; gap: 0.5rem; }
.check label { display: inline; font-weight: normal; margin: 0; }
.check input { width: 1.25rem; height: 1.25rem; margin: 0; }
ul.browsers { padding-left: 0; list-style: none; }
ul.browsers li { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline; gap: 0 1rem; padding: 0.5rem 0; border-bottom: 1px solid #8884; }
ul.browsers form, ul.browsers button { margin: 0; }
button { margin-top: 1rem; padding: 0.6rem 1.2rem; font-size: 1rem; cursor: pointer; }
button.link { font: inherit; background: none; border: none; color: var(--accent); text-decoration: underline; padding: 0; margin: 0; }
.hint { color: var(--hint-fg); font-size: 0.9rem; margin: 0.25rem 0 0; }
.error { color: var(--error-fg); font-weight: 600; }
.notice { border-left: 4px solid var(--accent); padding: 0.5rem 1rem; }
.warning { background: var(--warn-bg); color: var(--warn-fg); padding: 0.75rem 1rem; border-radius: 4px; }
.secret, .codes { font-family: ui-monospace, monospace; font-size: 1.05rem; letter-spacing: 0.05em; overflow-wrap: anywhere; }
.codes { columns: 2; column-gap: 2.5rem; padding-left: 2.5rem; }
.codes li { break-inside: avoid; }
/* The PNG carries its own white quiet zone of 4 modules, so it scans on a dark page too. */
img.qr { width: min(100%, 16rem); height: auto; image-rendering: pixelated; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
/* The focus ring: 3px in the accent colour (at least 3:1 against the page in both schemes, WCAG 2.4.13),
   off the element so it is not lost in a field's own border; the browser's default is a thin ring that
   vanishes on some fields. :focus-visible (every field, button and link) keeps it off a button a mouse clicked. */
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
`;
