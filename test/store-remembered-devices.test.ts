import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { MAX_REMEMBERED_DEVICES, generateTotpCode, type DeviceUse } from '../lib/index.js';
import { createMfaFixture, enrollUser } from './helpers/mfa-fixture.js';

const LABEL = 'Firefox on Linux';
const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

/** The token of a successful use; fails the test otherwise. */
function nextToken(t: Test, use: DeviceUse): string {
  if (!use.ok) {
    t.fail(`the token was refused: ${use.reason}`);
    return '';
  }
  return use.token;
}

t.test('a remembered browser works for its own user and never for another', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  await enrollUser(fixture, 'bob');
  const remembered = await fixture.store.rememberDevice('alice', { label: LABEL });
  if (!remembered) throw new Error('not remembered');
  t.match(remembered, { deviceId: /^[A-Za-z0-9_-]{16}$/, token: /^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/ });
  const days = (remembered.expiresAt.getTime() - Date.now()) / 86_400_000;
  t.ok(days > 29.9 && days <= 30, 'remembered for 30 days by default');

  t.same(await fixture.store.useDevice('bob', remembered.token), { ok: false, reason: 'unknown' }, "alice's browser does not let bob skip");
  t.same(await fixture.store.useDevice('carol', remembered.token), { ok: false, reason: 'unknown' }, 'nor a user without MFA');
  const use = await fixture.store.useDevice('alice', remembered.token);
  t.match(use, { ok: true, deviceId: remembered.deviceId, expiresAt: remembered.expiresAt }, 'and bob trying it did not use it up');
  t.same(fixture.events.filter((event) => event.type === 'device_used').map((event) => event.userId), ['alice']);
});

t.test('each use replaces the token; the one before is refused and forgets the browser', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const remembered = await fixture.store.rememberDevice('alice', { label: LABEL });
  const first = nextToken(t, await fixture.store.useDevice('alice', remembered!.token));
  const second = nextToken(t, await fixture.store.useDevice('alice', first));
  t.not(first, remembered!.token, 'the first use gave a new token');
  t.not(second, first, 'and so did the second');
  t.ok(second.startsWith(`${remembered!.deviceId}.`), 'the browser keeps its id');

  // A copy of `first` taken before the owner signed in again: a stolen cookie.
  t.same(await fixture.store.useDevice('alice', first), { ok: false, reason: 'replayed' }, 'the copied token is refused');
  t.match(fixture.events.at(-1), { type: 'device_token_replayed', userId: 'alice', deviceId: remembered!.deviceId });
  t.same(await fixture.store.useDevice('alice', second), { ok: false, reason: 'unknown' }, 'and the browser is forgotten: the newest token is dead too');
  t.same(await fixture.store.listDevices('alice'), [], 'it is gone from the list');
});

t.test('an expired, forgotten or revoked token is refused', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const shortLived = await fixture.store.rememberDevice('alice', { label: LABEL, ttlMs: 50 });
  await new Promise((resolve) => setTimeout(resolve, 80));
  t.same(await fixture.store.useDevice('alice', shortLived!.token), { ok: false, reason: 'expired' }, 'expired');
  t.same((await fixture.store.listDevices('alice')).map((device) => device.deviceId), [], 'an expired browser is not listed');

  const forgotten = await fixture.store.rememberDevice('alice', { label: LABEL });
  const kept = await fixture.store.rememberDevice('alice', { label: 'Chrome on macOS' });
  t.equal(await fixture.store.forgetDevice('alice', forgotten!.deviceId), true);
  t.equal(await fixture.store.forgetDevice('alice', forgotten!.deviceId), false, 'forgetting it again finds nothing');
  t.same(await fixture.store.useDevice('alice', forgotten!.token), { ok: false, reason: 'unknown' }, 'forgotten one by one');
  t.match(await fixture.store.useDevice('alice', kept!.token), { ok: true }, 'the other browser still works');
  t.match(fixture.events.find((event) => event.type === 'devices_forgotten'), { deviceIds: [forgotten!.deviceId], cause: 'app' });

  const all = await Promise.all([1, 2, 3].map(() => fixture.store.rememberDevice('alice', { label: LABEL })));
  t.equal(await fixture.store.forgetDevices('alice'), 5, 'forget all: three new, the one kept and the expired one');
  for (const device of all) t.same(await fixture.store.useDevice('alice', device!.token), { ok: false, reason: 'unknown' }, 'revoked with all');
  t.equal(await fixture.store.forgetDevices('alice'), 0, 'none left');

  for (const token of ['', 'x', `${forgotten!.deviceId}.`, { $ne: null }, 12, null, `${kept!.token}x`]) {
    t.same(await fixture.store.useDevice('alice', token), { ok: false, reason: 'unknown' }, `${JSON.stringify(token)} is no token`);
  }
});

t.test('20 parallel uses of a token being revoked: after the revocation answers, nothing gets in', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const remembered = await fixture.store.rememberDevice('alice', { label: LABEL });
  const token = remembered!.token;
  const uses = Array.from({ length: 20 }, () => fixture.store.useDevice('alice', token));
  const revocation = fixture.store.forgetDevices('alice');
  await revocation;
  const after = Array.from({ length: 20 }, () => fixture.store.useDevice('alice', token));
  const during = await Promise.all(uses);
  const succeeded = during.filter((use) => use.ok);
  t.ok(succeeded.length <= 1, `at most one of the parallel uses got in (${succeeded.length}): each token works once`);
  t.same((await Promise.all(after)).filter((use) => use.ok), [], 'no use after the revocation answered gets in');
  for (const use of succeeded) {
    t.same(await fixture.store.useDevice('alice', nextToken(t, use)), { ok: false, reason: 'unknown' }, 'nor the token a use got before it');
  }
  t.same(await fixture.store.listDevices('alice'), []);
});

t.test('turning MFA off, or enrolling again, forgets every remembered browser', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const before = await Promise.all([1, 2, 3].map(() => fixture.store.rememberDevice('alice', { label: LABEL })));
  t.ok(await fixture.store.disable('alice'));
  for (const device of before) t.same(await fixture.store.useDevice('alice', device!.token), { ok: false, reason: 'unknown' });
  t.match(fixture.events.find((event) => event.type === 'devices_forgotten'), { cause: 'disabled' });
  t.same(
    [...(fixture.events.find((event) => event.type === 'devices_forgotten') as { deviceIds: string[] }).deviceIds].sort(),
    before.map((device) => device!.deviceId).sort(),
    'the event names every browser',
  );
  t.equal(await fixture.store.rememberDevice('alice', { label: LABEL }), null, 'with MFA off nothing is remembered');
  t.same(await fixture.store.listDevices('alice'), []);

  await enrollUser(fixture, 'alice');
  const remembered = await fixture.store.rememberDevice('alice', { label: LABEL });
  // Enrolling again while MFA is on takes proof; here the app's own (replace: true).
  const again = await fixture.store.beginEnrollment('alice', 'alice', { replace: true });
  t.match(await fixture.store.confirmEnrollment('alice', await generateTotpCode(again.secret)), { ok: true });
  t.same(await fixture.store.useDevice('alice', remembered!.token), { ok: false, reason: 'unknown' }, 're-enrolled: the browser is forgotten');
  t.match(fixture.events.filter((event) => event.type === 'devices_forgotten').at(-1), { deviceIds: [remembered!.deviceId], cause: 're_enrolled' });
});

t.test(`the list never holds more than ${MAX_REMEMBERED_DEVICES}; the oldest go first`, async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const first = [];
  for (let i = 0; i < MAX_REMEMBERED_DEVICES; i++) first.push(await fixture.store.rememberDevice('alice', { label: `browser ${i}` }));
  const eleventh = await fixture.store.rememberDevice('alice', { label: 'browser 10' });
  t.match(fixture.events.at(-1), { type: 'device_remembered', deviceId: eleventh!.deviceId, droppedDeviceIds: [first[0]!.deviceId] });
  t.same(await fixture.store.useDevice('alice', first[0]!.token), { ok: false, reason: 'unknown' }, 'the oldest was dropped');
  t.match(await fixture.store.useDevice('alice', first[1]!.token), { ok: true }, 'the next oldest still works');

  await Promise.all(Array.from({ length: 15 }, (_, i) => fixture.store.rememberDevice('alice', { label: `parallel ${i}` })));
  const stored = await fixture.collection.findOne({ userId: 'alice' });
  t.equal(stored?.rememberedDevices.length, MAX_REMEMBERED_DEVICES, `15 remembered at once: still ${MAX_REMEMBERED_DEVICES} stored`);
  const listed = await fixture.store.listDevices('alice');
  t.equal(listed.length, MAX_REMEMBERED_DEVICES);
  t.ok(listed.every((device) => device.label.startsWith('parallel')), 'and they are the newest');
  t.ok(listed.every((device, i) => i === 0 || device.createdAt <= listed[i - 1]!.createdAt), 'listed newest first');
});

t.test('no token or hash of a token reaches an event, a list or the stored document', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const remembered = await fixture.store.rememberDevice('alice', { label: LABEL });
  const rotated = nextToken(t, await fixture.store.useDevice('alice', remembered!.token));
  await fixture.store.useDevice('alice', remembered!.token);
  const again = await fixture.store.rememberDevice('alice', { label: LABEL });
  const listed = await fixture.store.listDevices('alice');
  await fixture.store.forgetDevices('alice');

  const tokens = [remembered!.token, rotated, again!.token];
  const secrets = [...tokens, ...tokens.map(sha256), ...tokens.map((token) => token.split('.')[1]!)];
  const events = JSON.stringify(fixture.events);
  t.ok(['device_remembered', 'device_used', 'device_token_replayed', 'devices_forgotten'].every((type) => events.includes(type)));
  t.notOk(secrets.some((secret) => events.includes(secret)), 'no token, secret or hash in the events');
  t.notOk(secrets.some((secret) => JSON.stringify(listed).includes(secret)), 'nor in the list');
  t.same(Object.keys(listed[0]!).sort(), ['createdAt', 'deviceId', 'expiresAt', 'label', 'lastUsedAt']);

  const fresh = await fixture.store.rememberDevice('alice', { label: LABEL });
  const stored = JSON.stringify(await fixture.collection.findOne({ userId: 'alice' }));
  t.notOk(stored.includes(fresh!.token.split('.')[1]!), 'the document holds no token');
  t.ok(stored.includes(sha256(fresh!.token)), 'only its SHA-256');
});

t.test('labels and ids are checked before anything is stored', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  for (const label of ['', '   ', 'x'.repeat(65), 'tab\there', 42, undefined]) {
    await t.rejects(fixture.store.rememberDevice('alice', { label } as { label: string }), TypeError, `label ${JSON.stringify(label)}`);
  }
  await t.rejects(fixture.store.rememberDevice('alice', { label: LABEL, ttlMs: -1 }), TypeError, 'a negative lifetime');
  await t.rejects(fixture.store.forgetDevice('alice', { $ne: null } as unknown as string), TypeError, 'an object as device id');
  t.same(await fixture.store.listDevices('alice'), [], 'nothing was remembered');
});
