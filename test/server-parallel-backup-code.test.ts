import t, { type Test } from 'tap';
import type { ThrottlePolicy } from '../lib/index.js';
import { createMfaUser, pendingClient, startTestApp } from './helpers/server.js';

const PARALLEL_LOGINS = 20;

async function raceWithOneBackupCode(t: Test, throttle?: Partial<ThrottlePolicy>): Promise<void> {
  const { app } = await startTestApp(t, { config: { rateLimitMax: 100 }, ...(throttle ? { mfa: { throttle } } : {}) });
  const { username, backupCodes } = await createMfaUser(app);
  // The password steps one after the other: each is charged before its check, so 20 at once on one name
  // would be throttled like 20 guesses (test/server-password-throttle.test.ts). The race is the codes'.
  const clients = [];
  for (let i = 0; i < PARALLEL_LOGINS; i++) clients.push(await pendingClient(app, username));
  t.equal(new Set(clients.map((client) => client.sessionCookie)).size, PARALLEL_LOGINS, 'separate sessions');

  const responses = await Promise.all(clients.map((client) => client.post('/api/login/mfa', { token: backupCodes[0] })));
  const statuses = responses.map((response) => response.status);
  t.equal(statuses.filter((status) => status === 200).length, 1, `statuses: ${statuses.join(' ')}`);
  t.ok(statuses.every((status) => status === 200 || status === 401 || status === 429), 'the others are refused');
  t.same(responses.find((response) => response.status === 200)!.json, {
    authenticated: true,
    method: 'backup_code',
    remainingBackupCodes: 9,
    lowOnBackupCodes: false,
  });

  const me = await Promise.all(clients.map((client) => client.get('/api/me')));
  t.equal(me.filter((response) => response.status === 200).length, 1, 'one session is logged in, the rest are not');

  // The losers that got past the throttle count as failed attempts (a used code was
  // replayed), and those after the winner's reset may leave the user throttled for a
  // moment: a short wait, never a lockout. So right after the race any attempt may be
  // a 429; a success clears the count.
  const other = await pendingClient(app, username);
  let next = await other.post('/api/login/mfa', { token: backupCodes[1] });
  if (next.status === 429) {
    t.equal(next.json.retryAfterSeconds <= 2, true, `a short wait, not a lockout: ${next.json.error}`);
    await new Promise((resolve) => setTimeout(resolve, next.json.retryAfterSeconds * 1000 + 100));
    next = await other.post('/api/login/mfa', { token: backupCodes[1] });
  }
  t.equal(next.status, 200, 'the next backup code works');
  t.equal(next.json.remainingBackupCodes, 8, 'the race cost exactly one code');

  // Asked now, with the count cleared, a 401 can only mean the raced code is gone.
  const later = await pendingClient(app, username);
  t.equal((await later.post('/api/login/mfa', { token: backupCodes[0] })).status, 401, 'the raced code is used up');
}

t.test(`${PARALLEL_LOGINS} pending logins race with the same backup code: exactly one logs in`, (t) => raceWithOneBackupCode(t));

t.test('the same race when its losers leave the user throttled: still one login and one code gone', (t) =>
  raceWithOneBackupCode(t, { throttleAfterFailures: 1 }),
);
