// A password step that read the old hash while the owner changed the password (its bcrypt check still
// running) must not leave a live session behind: the change signed out every session of the user, but
// this one was not written yet. The attacker's instance holds the reply of its user lookup, so the
// change lands exactly inside that window.
import t from 'tap';
import { createMfaUser, registerAndLogIn, TEST_PASSWORD, TestClient } from './helpers/server.js';
import { twoInstancesOneBehindAProxy } from './helpers/two-instances-one-behind-a-proxy.js';

const NEW_PASSWORD = 'the owner changed it just now';

for (const mfaOn of [false, true]) {
  t.test(`a password step that checked the old password during the change is signed out (MFA ${mfaOn ? 'on' : 'off'})`, async (t) => {
    const { proxy, attackers, owners } = await twoInstancesOneBehindAProxy(t);
    const owner = new TestClient(owners);
    let username: string;
    if (mfaOn) {
      const mfa = await createMfaUser(owners);
      username = mfa.username;
      await owner.post('/api/login', { username, password: TEST_PASSWORD });
      t.equal((await owner.post('/api/login/mfa', { token: await mfa.device.nextCode() })).status, 200);
    } else {
      username = await registerAndLogIn(owner);
    }

    // The attacker's user lookup reaches MongoDB and reads the old hash; its reply waits.
    const lookup = proxy.delayReplyTo('users');
    const attacker = new TestClient(attackers);
    const step = attacker.post('/api/login', { username, password: TEST_PASSWORD });
    await lookup.arrived;
    const change = await owner.post('/api/me/password', { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
    t.equal(change.status, 200, 'the change lands meanwhile');
    lookup.release();

    const answer = await step;
    t.equal(answer.status, 401, 'the password step that read the old password is refused');
    t.equal((await attacker.get('/api/me')).status, 401, 'and leaves no signed-in session');
    if (mfaOn) t.equal((await attacker.post('/api/login/mfa', { token: '123456' })).status, 401, 'nor a pending login');
    t.equal((await owner.get('/api/me')).status, 200, 'the owner stays signed in');
  });
}
