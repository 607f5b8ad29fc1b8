import t from 'tap';
import { createMfaUser, pendingClient, startTestApp } from './helpers/server.js';

const PARALLEL_LOGINS = 20;

t.test(`${PARALLEL_LOGINS} pending logins race with the same backup code: exactly one logs in`, async (t) => {
  const { app } = await startTestApp(t, { config: { rateLimitMax: 100 } });
  const { username, backupCodes } = await createMfaUser(app);
  const clients = await Promise.all(Array.from({ length: PARALLEL_LOGINS }, () => pendingClient(app, username)));
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

  const later = await pendingClient(app, username);
  t.equal((await later.post('/api/login/mfa', { token: backupCodes[0] })).status, 401, 'the code is used up');
  // The losers count as failed attempts (a used code was replayed), so the user may be
  // throttled for a moment, but never locked out.
  const other = await pendingClient(app, username);
  let next = await other.post('/api/login/mfa', { token: backupCodes[1] });
  if (next.status === 429) {
    t.equal(next.json.retryAfterSeconds <= 2, true, `a short wait, not a lockout: ${next.json.error}`);
    await new Promise((resolve) => setTimeout(resolve, next.json.retryAfterSeconds * 1000 + 100));
    next = await other.post('/api/login/mfa', { token: backupCodes[1] });
  }
  t.equal(next.status, 200, 'the next backup code works');
  t.equal(next.json.remainingBackupCodes, 8, 'the race cost exactly one code');
});
