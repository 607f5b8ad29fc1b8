// A change whose body arrived before the sign-out, but whose proof (a backup code's bcrypt comparison,
// queued behind other work) is still running when the owner changes the password: it must not be
// written. The attacker's instance holds the reply of its MFA read, so the change lands inside the proof.
import t from 'tap';
import { createMfaUser, TEST_PASSWORD, TestClient } from './helpers/server.js';
import { twoInstancesOneBehindAProxy } from './helpers/two-instances-one-behind-a-proxy.js';

for (const [route, label] of [
  ['/api/mfa/disable', 'turn MFA off'],
  ['/api/mfa/backup-codes', 'make new backup codes'],
] as const) {
  t.test(`a session signed out while its code was checked cannot ${label}`, async (t) => {
    const { proxy, attackers, owners } = await twoInstancesOneBehindAProxy(t);
    const { username, device, backupCodes } = await createMfaUser(owners);
    const attacker = new TestClient(attackers);
    await attacker.post('/api/login', { username, password: TEST_PASSWORD });
    t.equal((await attacker.post('/api/login/mfa', { token: backupCodes[0] })).status, 200, 'the attacker is signed in with a stolen code');
    const owner = new TestClient(owners);
    await owner.post('/api/login', { username, password: TEST_PASSWORD });
    t.equal((await owner.post('/api/login/mfa', { token: await device.nextCode() })).status, 200);

    // The attacker's request is in, its session live; its MFA read waits while the owner changes the password.
    // The `find` of the MFA document (BSON: the key, the string's length, the collection's name).
    const read = proxy.delayReplyTo('find\u0000\u0004\u0000\u0000\u0000mfa\u0000');
    const change = attacker.post(route, { token: backupCodes[1] });
    await read.arrived;
    const changed = await owner.post('/api/me/password', { currentPassword: TEST_PASSWORD, newPassword: 'the owner changed it just now' });
    t.equal(changed.json.signedOutSessions, 1, 'the attacker is signed out meanwhile');
    read.release();

    const answer = await change;
    t.equal(answer.status, 401, 'the change is refused as signed out');
    t.notOk(answer.json?.backupCodes, 'no codes handed out');
    const status = (await owner.get('/api/me')).json;
    t.equal(status.mfa.enabled, true, 'MFA is still on');
    t.equal(status.mfa.remainingBackupCodes, 8, 'the old set, less the code the attacker proved with');
  });
}
