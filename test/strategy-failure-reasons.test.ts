import t from 'tap';
import {
  isMfaFailureInfo,
  isMfaSuccessInfo,
  MFA_FAILURE_REASONS,
  TotpOrBackupCodeStrategy,
  type MfaFailureInfo,
} from '../lib/index.js';
import { buildApp, pendingSession } from './helpers/fastify-strategy-app.js';
import { createMfaFixture, enrollUser, nextTotpCode } from './helpers/mfa-fixture.js';

// Programs branch on `reason`, people read `message`: every failure has both, and the app can reword each reason.
t.test('every kind of failure carries its own reason beside its status', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 2, lockAfterFailures: 3, baseDelayMs: 60_000 } });
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const app = await buildApp(t, fixture.store);
  const post = async (cookie: string, token: unknown) => {
    const response = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: cookie ? { cookie } : {}, payload: { token } });
    return { statusCode: response.statusCode, info: response.json().info as MfaFailureInfo };
  };
  const noSession = await post('', '123456');
  t.match(noSession, { statusCode: 401, info: { reason: 'no_pending_login', status: 401 } });
  const cookie = await pendingSession(app, 'alice');
  t.match(await post(cookie, 'not a code'), { statusCode: 400, info: { reason: 'malformed', status: 400 } });
  t.match(await post(cookie, '000000'), { statusCode: 401, info: { reason: 'invalid', status: 401 } });
  t.match(await post(cookie, '000000'), { statusCode: 401, info: { reason: 'invalid' } });
  const throttled = await post(cookie, '000000');
  t.match(throttled, { statusCode: 429, info: { reason: 'throttled', retryAfterSeconds: 60, locked: false } });
  t.ok(isMfaFailureInfo(throttled.info), 'the type guard recognises a failure');

  await fixture.collection.updateOne({ userId: 'alice' }, { $set: { blockedUntil: new Date(0) } });
  t.match(await post(cookie, '000000'), { statusCode: 401, info: { reason: 'invalid', locked: true, retryAfterSeconds: 900 } }, 'the failure that locks says so');
  const locked = await post(cookie, backupCodes[0]);
  t.match(locked, { statusCode: 429, info: { reason: 'locked', locked: true, retryAfterSeconds: 900 } });
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 10, 'no code used while locked');
});

t.test('expired backup codes say so with their own reason', async (t) => {
  const fixture = await createMfaFixture(t, { backupCodeMaxAgeMs: 1 });
  const { backupCodes } = await enrollUser(fixture, 'alice');
  await new Promise((resolve) => setTimeout(resolve, 5));
  const app = await buildApp(t, fixture.store);
  const cookie = await pendingSession(app, 'alice');
  const response = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: backupCodes[0] } });
  t.equal(response.statusCode, 401);
  t.match(response.json().info, { reason: 'expired', message: /expired/ });
});

t.test('an app rewords messages by reason, with strings or functions of the failure', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 1, baseDelayMs: 120_000 } });
  await enrollUser(fixture, 'alice');
  const app = await buildApp(t, fixture.store, {
    messages: {
      invalid: 'Ce code est incorrect ou a déjà servi',
      throttled: ({ retryAfterSeconds }) => `Réessayez dans ${Math.round(retryAfterSeconds! / 60)} minutes`,
      no_pending_login: (info) => `${info.message}!`,
    },
  });
  const anonymous = await app.inject({ method: 'POST', url: '/login/mfa/json', payload: { token: '123456' } });
  t.equal(anonymous.json().info.message, 'No login is waiting for a second factor!', 'a function receives the default wording');
  const cookie = await pendingSession(app, 'alice');
  const wrong = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: '000000' } });
  t.same(wrong.json().info, { reason: 'invalid', status: 401, message: 'Ce code est incorrect ou a déjà servi' });
  const throttled = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: '000000' } });
  t.match(throttled.json().info, { reason: 'throttled', status: 429, message: 'Réessayez dans 2 minutes', retryAfterSeconds: 120 });
  const malformed = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: 'x' } });
  t.match(malformed.json().info, { reason: 'malformed', message: /token must be/ }, 'a reason left out keeps the default');
});

t.test('a messages option that names no reason, or holds no wording, is refused at construction', async (t) => {
  const fixture = await createMfaFixture(t);
  const base = { store: fixture.store, getPendingUserId: () => null, getUser: () => null };
  t.throws(() => new TotpOrBackupCodeStrategy({ ...base, messages: { wrong: 'x' } as never }), {
    name: 'TypeError',
    message: /messages\.wrong is not a failure reason; use one of malformed, no_pending_login/,
  });
  t.throws(() => new TotpOrBackupCodeStrategy({ ...base, messages: { invalid: 42 } as never }), { message: /messages\.invalid must be a string or a function/ });
  t.same(MFA_FAILURE_REASONS, ['malformed', 'no_pending_login', 'invalid', 'reused', 'expired', 'throttled', 'locked']);
});

t.test('getUser receives the request, so an app can refuse a user of another tenant', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const app = await buildApp(t, fixture.store, {
    getUser: (id, request) => (request.headers['x-tenant'] === 'acme' ? { id } : null),
  });
  const cookie = await pendingSession(app, 'alice');
  const code = await nextTotpCode(secret);
  const elsewhere = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie, 'x-tenant': 'other' }, payload: { token: code } });
  t.match(elsewhere.json().info, { reason: 'invalid', status: 401 });
  const home = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie, 'x-tenant': 'acme' }, payload: { token: code } });
  t.equal(home.statusCode, 200, 'the refused attempt used up nothing: the same code still logs in');
  t.ok(isMfaSuccessInfo(home.json().info));
  t.notOk(isMfaSuccessInfo(elsewhere.json().info));
  t.notOk(isMfaFailureInfo(home.json().info));
});

t.test('the code just used, presented again through the strategy: reused, with its own wording an app can replace', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const app = await buildApp(t, fixture.store, { messages: { reused: 'Attendez le code suivant' } });
  const code = await nextTotpCode(secret);
  const first = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie: await pendingSession(app, 'alice') }, payload: { token: code } });
  t.equal(first.statusCode, 200);
  const again = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie: await pendingSession(app, 'alice') }, payload: { token: code } });
  t.equal(again.statusCode, 401);
  t.same(again.json().info, { reason: 'reused', status: 401, message: 'Attendez le code suivant' });
  t.ok(isMfaFailureInfo(again.json().info));
});
