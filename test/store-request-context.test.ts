// The request context: what an app hands in (store.withContext, the strategy's requestContext) is
// copied onto every event, and nothing else rides along. And unlock, for an operator.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import session from 'express-session';
import passport from 'passport';
import t from 'tap';
import { MAX_USER_AGENT_LENGTH, TotpOrBackupCodeStrategy } from '../lib/index.js';
import { buildApp, pendingSession } from './helpers/fastify-strategy-app.js';
import { createMfaFixture, enrollUser, nextTotpCode } from './helpers/mfa-fixture.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

t.test('a store view copies its context onto every event; the store itself adds none', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { lockAfterFailures: 2, throttleAfterFailures: 10 } });
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const view = fixture.store.withContext({ ip: '203.0.113.7', userAgent: FIREFOX });
  fixture.events.length = 0;

  t.match(await view.verifyCode('alice', backupCodes[0]), { ok: true, remainingBackupCodes: 9 });
  t.match(await view.verifyCode('alice', '000000'), { ok: false });
  t.match(await view.verifyCode('alice', '000001'), { ok: false, locked: true });
  t.same(fixture.events.map((event) => event.type), ['backup_code_used', 'verification_failed', 'verification_failed', 'locked']);
  for (const event of fixture.events) t.same(event.context, { ip: '203.0.113.7', userAgent: FIREFOX }, `${event.type} carries the context`);

  t.ok(await fixture.store.unlock('alice'));
  t.same(fixture.events.at(-1), { type: 'unlocked', userId: 'alice', at: fixture.events.at(-1)!.at }, 'the store itself adds no context');
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 9, 'the view used the code up in the one collection');
});

t.test('only ip and userAgent, as trimmed strings, ride along; the user agent is capped', async (t) => {
  const fixture = await createMfaFixture(t);
  const hostile = {
    ip: ' 198.51.100.2\r\n',
    userAgent: `${'A'.repeat(MAX_USER_AGENT_LENGTH)}token=secret`,
    sessionId: 'abc',
    cookie: 'sid=xyz',
  };
  await fixture.store.withContext(hostile as never).beginEnrollment('bob', 'bob');
  const context = fixture.events.at(-1)!.context!;
  t.same(Object.keys(context).sort(), ['ip', 'userAgent'], 'unknown keys are dropped');
  t.equal(context.ip, '198.51.100.2', 'trimmed, control characters removed');
  t.equal(context.userAgent, 'A'.repeat(MAX_USER_AGENT_LENGTH), 'cut at the cap, so what followed is gone');

  await fixture.store.withContext({ ip: 42, userAgent: { evil: true } } as never).beginEnrollment('bob', 'bob');
  t.notOk('context' in fixture.events.at(-1)!, 'non-string values leave no context at all');
  await fixture.store.withContext(undefined).beginEnrollment('bob', 'bob');
  t.notOk('context' in fixture.events.at(-1)!, 'no context, none added');
});

t.test('unlock clears a lock once and says whether there was one', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { lockAfterFailures: 2, throttleAfterFailures: 10 } });
  const { secret } = await enrollUser(fixture, 'carol');
  await fixture.store.verifyCode('carol', '000000');
  await fixture.store.verifyCode('carol', '000001');
  t.ok((await fixture.store.getStatus('carol')).locked, 'locked after two wrong codes');
  t.match(await fixture.store.verifyCode('carol', await nextTotpCode(secret)), { ok: false, reason: 'throttled' }, 'a right code waits');

  t.equal(await fixture.store.unlock('carol'), true);
  t.notOk((await fixture.store.getStatus('carol')).locked);
  t.match(await fixture.store.verifyCode('carol', await nextTotpCode(secret)), { ok: true }, 'a right code works at once');
  t.equal(await fixture.store.unlock('carol'), false, 'nothing left to clear');
  t.equal(await fixture.store.unlock('nobody'), false, 'an unknown user has nothing to clear');
  t.equal(fixture.events.filter((event) => event.type === 'unlocked').length, 1, 'one unlocked event');
  await t.rejects(fixture.store.unlock({ $ne: null } as never), TypeError, 'a filter object is not a user id');
});

t.test('under Fastify the strategy copies request.ip and the User-Agent by default, or what requestContext says', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'dave');
  const app = await buildApp(t, fixture.store);
  const cookie = await pendingSession(app, 'dave');
  fixture.events.length = 0;
  const response = await app.inject({
    method: 'POST',
    url: '/login/mfa',
    headers: { cookie, 'user-agent': FIREFOX },
    remoteAddress: '192.0.2.10',
    payload: { token: await nextTotpCode(secret) },
  });
  t.equal(response.statusCode, 200);
  t.same(fixture.events.map((event) => [event.type, event.context]), [['totp_accepted', { ip: '192.0.2.10', userAgent: FIREFOX }]]);

  const custom = await buildApp(t, fixture.store, { requestContext: (request) => ({ ip: String(request.headers['x-client']) }) });
  const customCookie = await pendingSession(custom, 'dave');
  fixture.events.length = 0;
  await custom.inject({ method: 'POST', url: '/login/mfa', headers: { cookie: customCookie, 'x-client': '2001:db8::1' }, payload: { token: '000000' } });
  t.same(fixture.events.map((event) => [event.type, event.context]), [['verification_failed', { ip: '2001:db8::1' }]]);
  t.throws(() => new TotpOrBackupCodeStrategy({ store: fixture.store, getPendingUserId: () => null, getUser: () => null, requestContext: 'ip' as never }), /requestContext must be a function/);
});

t.test('under Express the strategy copies req.ip and the User-Agent by default', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'erin');
  const authenticator = new passport.Passport();
  authenticator.use(new TotpOrBackupCodeStrategy<Request, unknown>({ store: fixture.store, getPendingUserId: () => 'erin', getUser: (id) => ({ id }) }));
  authenticator.serializeUser((user, done) => done(null, (user as { id: string }).id));
  const app = express();
  app.use(express.json());
  app.use(session({ secret: 'c'.repeat(32), resave: false, saveUninitialized: false }));
  app.post('/login/mfa', authenticator.authenticate('totp-or-backup-code'), (_request, response) => response.json({ ok: true }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  fixture.events.length = 0;
  const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/login/mfa`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': FIREFOX },
    body: JSON.stringify({ token: await nextTotpCode(secret) }),
  });
  t.equal(response.status, 200);
  t.same(fixture.events.map((event) => [event.type, event.context]), [['totp_accepted', { ip: '127.0.0.1', userAgent: FIREFOX }]]);
});
