import t from 'tap';
import { timeStepAt } from '../lib/totp.js';
import { createMfaFixture, enrollUser, nextTotpCode } from './helpers/mfa-fixture.js';

t.test('a user id that is not a non-empty string is refused before it reaches a MongoDB filter', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const store = fixture.store;
  const hostile: unknown[] = [{ $ne: null }, { $gt: '' }, ['alice'], 42, null, undefined, ''];
  for (const userId of hostile) {
    const id = userId as string;
    const label = JSON.stringify(userId) ?? 'undefined';
    await t.rejects(store.getStatus(id), { name: 'TypeError', message: 'userId must be a non-empty string' }, `getStatus ${label}`);
    await t.rejects(store.disable(id), TypeError, `disable ${label}`);
    await t.rejects(store.verifyCode(id, '123456'), TypeError, `verifyCode ${label}`);
    await t.rejects(store.regenerateBackupCodes(id), TypeError, `regenerateBackupCodes ${label}`);
    await t.rejects(store.beginEnrollment(id, 'x'), TypeError, `beginEnrollment ${label}`);
    await t.rejects(store.confirmEnrollment(id, '123456'), TypeError, `confirmEnrollment ${label}`);
  }
  t.match(await store.getStatus('alice'), { enabled: true, remainingBackupCodes: 10 }, 'alice is untouched');
});

t.test('a last accepted step ahead of this clock (skew between instances) rejects the code without an error', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  await fixture.collection.updateOne({ userId: 'alice' }, { $set: { lastTimeStep: timeStepAt(new Date()) + 5 } });
  t.same(await fixture.store.verifyCode('alice', await nextTotpCode(secret)), { ok: false, reason: 'invalid' });
});

t.test('a hasher without hash and compare is refused at construction', async (t) => {
  await t.rejects(createMfaFixture(t, { hasher: { hash: async () => 'x' } as never }), {
    name: 'TypeError',
    message: /hasher must have hash\(code, cost\) and compare\(code, hash\)/,
  });
});
