// The current password typed again as the new one is refused in words (400) on the API and the account
// page's form, and changes nothing: no hash is made, no session renewed, no browser forgotten, and it
// costs the one bcrypt comparison that checks the current password, no more (counted on the real bcrypt).
import t from 'tap';
import { Accounts, SAME_PASSWORD_MESSAGE } from '../server/accounts/accounts.js';
import { Users } from '../server/accounts/users.js';
import { createPasswordHasher, type PasswordHasher } from '../server/app/crypto.js';
import { openTestDatabase } from './helpers/database.js';
import { TEST_PASSWORD, TestClient, registerAndLogIn, startTestApp } from './helpers/server.js';

const NEW_PASSWORD = 'a new and longer passphrase';

t.test('Accounts.changePassword: the current password as the new one is a 400 after one bcrypt comparison and no hash', async (t) => {
  const { db } = await openTestDatabase(t);
  const users = new Users(db.collection('users'));
  await users.ensureIndexes();
  const bcrypt = await createPasswordHasher(4);
  const work = { comparisons: 0, hashes: 0 };
  const counted: PasswordHasher = {
    hash: (password) => (work.hashes++, bcrypt.hash(password)),
    verify: (password, hash) => (work.comparisons++, bcrypt.verify(password, hash)),
  };
  const accounts = new Accounts(users, counted);
  const registered = await accounts.register('erin', TEST_PASSWORD);
  if (!registered.ok) throw new Error(registered.message);
  const stored = (await users.findById(registered.user.id))!.passwordHash;

  Object.assign(work, { comparisons: 0, hashes: 0 });
  t.same(await accounts.changePassword(registered.user.id, TEST_PASSWORD, TEST_PASSWORD), { ok: false, status: 400, message: SAME_PASSWORD_MESSAGE });
  t.same(work, { comparisons: 1, hashes: 0 }, 'one bcrypt comparison (the current password), no new hash');
  t.equal((await users.findById(registered.user.id))!.passwordHash, stored, 'the stored hash is the same');

  Object.assign(work, { comparisons: 0, hashes: 0 });
  t.match(await accounts.changePassword(registered.user.id, 'not my password', 'not my password'), { ok: false, status: 401 }, 'the same wrong password twice: the current one is wrong');
  t.same(work, { comparisons: 1, hashes: 0 });

  Object.assign(work, { comparisons: 0, hashes: 0 });
  t.same(await accounts.changePassword(registered.user.id, TEST_PASSWORD, `${TEST_PASSWORD} `), { ok: true }, 'one character more is a new password');
  t.same(work, { comparisons: 1, hashes: 1 }, 'a change: the comparison and the new hash');
});

t.test('the API and the account page refuse the current password as the new one, in words, and change nothing', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  const session = client.sessionCookie;

  const api = await client.post('/api/me/password', { currentPassword: TEST_PASSWORD, newPassword: TEST_PASSWORD });
  t.same([api.status, api.json], [400, { error: SAME_PASSWORD_MESSAGE }]);
  t.equal(client.sessionCookie, session, 'the session keeps its id: nothing was changed');

  const page = await client.get('/account');
  const form = await client.postForm('/account/password', { currentPassword: TEST_PASSWORD, newPassword: TEST_PASSWORD }, page);
  t.equal(form.headers.location, '/account#change-password', 'back to the form');
  const shown = await client.get('/account');
  t.match(shown.text, /id="form-error">Your new password is your current one; choose a different new password\. Your password was not changed</);
  t.equal((await client.get('/api/me')).json.username, username, 'still signed in');
  t.same((await new TestClient(app).post('/api/login', { username, password: TEST_PASSWORD })).json, { authenticated: true, mfaRequired: false }, 'the password is what it was');
  t.equal((await client.post('/api/me/password', { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD })).status, 200, 'a different one is changed');
});
