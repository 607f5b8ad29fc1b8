// The wait page `GET /too-many-attempts` keeps no state, so whoever makes its address chooses its
// `until`. A link sent to someone ("your account was locked, see for yourself") must not make this
// site's own page say "Try again in about 24 hours" when no limit here waits longer than 15 minutes
// (the password throttle's ceiling; the per-address limit's sliding minute, two at most): the page says no longer a wait
// than its kind of limit can impose (found by an outside attack on the change).
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
  const minute = await new TestClient(app).get(`/too-many-attempts?kind=attempts&until=${until}&back=/login`);
  t.ok(Number(minute.headers['retry-after']) <= 120, 'the per-address limit\'s page at most two of its minutes (a sliding window\'s longest wait)');
});
