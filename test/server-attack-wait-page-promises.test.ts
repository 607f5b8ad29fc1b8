// Attack (helper "attack", issue 15 item 3): the wait page `GET /too-many-attempts` keeps no state, so
// whoever makes its address chooses what it says. It refuses a `back` off this site and words no
// text from the address, but `until` is believed up to 24 hours ahead, when no limit here ever waits
// longer than 15 minutes (the password throttle's ceiling; the per-address limit is a minute). A link
// sent to someone ("your account was locked, see for yourself") then shows this site's own page saying
// "Too many wrong passwords for this username in a row. Try again in about 24 hours", with a 429 and
// Retry-After: 86400. The page should say no longer a wait than one of its limits can impose.
import t from 'tap';
import { DEFAULT_PASSWORD_THROTTLE_POLICY } from '../server/login/password-throttle.js';
import { TestClient, startTestApp } from './helpers/server.js';

const LONGEST_REAL_WAIT_S = DEFAULT_PASSWORD_THROTTLE_POLICY.waitPastCeilingMs / 1000;

t.test('a hand-made wait page promises no longer a wait than any limit of the site imposes', async (t) => {
  const { app } = await startTestApp(t);
  const until = Date.now() + 24 * 60 * 60_000;
  for (const kind of ['passwords', 'attempts']) {
    const page = await new TestClient(app).get(`/too-many-attempts?kind=${kind}&until=${until}&back=/login`);
    const words = /id="wait-message">([^]*?)<\/p>/.exec(page.text)?.[1]?.replace(/<[^>]+>/g, '') ?? '';
    t.comment(`${kind}: ${page.status}, Retry-After ${page.headers['retry-after']}: ${words}`);
    t.ok(Number(page.headers['retry-after'] ?? 0) <= LONGEST_REAL_WAIT_S, `${kind}: Retry-After is at most ${LONGEST_REAL_WAIT_S} s`);
    t.notMatch(words, /hours?\b/, `${kind}: the page does not tell the person to wait hours`);
  }
});
