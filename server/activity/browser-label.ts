/**
 * "Firefox on Linux": how the list of remembered browsers and the security
 * activity name a browser, read from its User-Agent. A few patterns, no library: the label only helps a
 * person recognise their own browsers, and a browser it does not know is
 * simply "A browser". Nothing depends on it being right.
 */

/** Checked in order: Edge, Opera and Chrome on iOS all say "Safari" too, and Edge and Opera say "Chrome". */
const BROWSERS: Array<[RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\b(?:OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(?:Firefox|FxiOS)\//, 'Firefox'],
  [/\b(?:Chrome|Chromium|CriOS|HeadlessChrome)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  // Programs, for the activity page: a sign-in through the JSON API from a script says so.
  [/^curl\//, 'curl'],
  [/^Wget\//, 'Wget'],
  [/^python-requests\//, 'Python requests'],
  [/^(?:node|undici)\b/i, 'Node.js'],
];

/** Android before Linux (Android says Linux); iPhone and iPad before macOS (iPadOS says "Mac OS X"). */
const SYSTEMS: Array<[RegExp, string]> = [
  [/\bAndroid\b/, 'Android'],
  [/\b(?:iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
];

/** Longest User-Agent looked at: enough for any real one, and no regular expression runs on a megabyte. */
const MAX_USER_AGENT_LENGTH = 512;

function firstMatch(userAgent: string, patterns: Array<[RegExp, string]>): string | null {
  return patterns.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null;
}

/** A short label for the browser that sent `userAgent`, such as "Chrome on macOS". */
export function describeBrowser(userAgent: string | undefined): string {
  const text = (userAgent ?? '').slice(0, MAX_USER_AGENT_LENGTH);
  const browser = firstMatch(text, BROWSERS);
  const system = firstMatch(text, SYSTEMS);
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  return system ? `A browser on ${system}` : 'A browser';
}
