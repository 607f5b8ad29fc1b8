/**
 * Every form of the account page carries the moment the page was rendered,
 * and a post of it within a second of that (the tail of a double click,
 * landing on whatever now sits under the pointer) is answered 204 and does
 * nothing: starting a setup, forgetting browsers, acknowledging notices,
 * changing the password. Sign out, in the header of every page (where no
 * other button can have been), carries none and is never turned away. A
 * moment later the same form acts;
 * the moment only ever refuses, so forging it gains nothing. Over HTTP; the
 * double click itself is in server-browser-double-click-after-a-change.
 */
import t from 'tap';
import { UNAIMED_CLICK_MS } from '../server/views/page-shown-at.js';
import { TEST_PASSWORD, TestClient, createMfaUser, registerAndLogIn, type TestResponse } from './helpers/server.js';
import { startTestApp } from './helpers/server.js';

const NEW_PASSWORD = 'a new and longer passphrase';

interface PageForm {
  action: string;
  fields: Record<string, string>;
}

/** The post forms of a page, each with its hidden fields (and the password form filled in, as a person would). */
function postForms(page: TestResponse): PageForm[] {
  return [...page.text.matchAll(/<form method="post" action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].map(([, action, inner]) => {
    const fields: Record<string, string> = {};
    for (const [, name, value] of inner!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[name!] = value!;
    if (action === '/account/password') Object.assign(fields, { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
    return { action: action!, fields };
  });
}

const post = (client: TestClient, form: PageForm, fields: Record<string, string> = {}) =>
  client.request({ method: 'POST', url: form.action, form: { ...form.fields, ...fields } });

/** Whether `password` still signs `username` in (from a client of its own). */
async function passwordWorks(app: TestClient['app'], username: string, password: string): Promise<boolean> {
  return (await new TestClient(app).post('/api/login', { username, password })).status === 200;
}

t.test('two-factor sign-in off: the account page ignores its forms in its first second, then acts on them', async (t) => {
  const { app, db } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  const page = await client.get('/account');
  const forms = postForms(page);
  t.same(forms.map((form) => form.action).sort(), ['/account/password', '/logout', '/mfa/setup'], 'the page has these forms');

  const signOut = forms.find((form) => form.action === '/logout')!;
  t.notOk(signOut.fields.shownAt, 'Sign out carries no moment: it sits in the header of every page');
  for (const form of forms.filter((candidate) => candidate !== signOut)) {
    t.match(form.fields.shownAt, /^[0-9]{13}$/, `${form.action} carries the moment its page was rendered`);
    const answer = await post(client, form);
    t.equal(answer.status, 204, `${form.action} at once: 204, the browser stays on the page`);
    t.equal(answer.text, '', 'with nothing in it');
  }
  t.equal((await client.get('/account')).status, 200, 'still signed in');
  t.notOk((await db.collection('mfa').findOne({}))?.pendingTotpSecret, 'no setup started');
  t.ok(await passwordWorks(app, username, TEST_PASSWORD), 'the password is unchanged');

  const setup = forms.find((form) => form.action === '/mfa/setup')!;
  const future = await post(client, setup, { shownAt: String(Date.now() + 60_000) });
  t.equal(future.status, 204, 'a moment forged into the future only holds back its own sender');
  const aimed = await post(client, setup, { shownAt: String(Date.now() - UNAIMED_CLICK_MS) });
  t.equal(aimed.status, 303, 'a second after the page appeared, the same form acts');
  t.equal(aimed.headers.location, '/mfa/setup');
  t.ok((await db.collection('mfa').findOne({}))?.pendingTotpSecret, 'and the setup is started');
  const { shownAt: _ignored, ...withoutMoment } = setup.fields;
  const old = await client.request({ method: 'POST', url: '/mfa/setup', form: withoutMoment });
  t.equal(old.status, 303, 'a post without the moment (a page from before this version) acts as before');

  t.equal((await post(client, signOut)).status, 303, 'Sign out at once signs out');
  t.equal((await client.get('/api/me')).status, 401);
});

t.test('two-factor sign-in on: forgetting browsers and acknowledging notices are ignored in the first second too', async (t) => {
  const { app, db } = await startTestApp(t);
  const { username, device, backupCodes } = await createMfaUser(app);
  const owner = new TestClient(app, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36' });
  await owner.post('/api/login', { username, password: TEST_PASSWORD });
  t.equal((await owner.post('/api/login/mfa', { token: await device.nextCode(), rememberBrowser: true })).status, 200);
  // Someone else signs in with a backup code: the owner's page warns of it, with a button to acknowledge.
  const other = new TestClient(app);
  await other.post('/api/login', { username, password: TEST_PASSWORD });
  t.equal((await other.post('/api/login/mfa', { token: backupCodes[0] })).status, 200);

  const page = await owner.get('/account');
  const forms = postForms(page);
  t.same(
    forms.map((form) => form.action).sort(),
    ['/account/notices/acknowledge', '/account/password', '/logout', '/mfa/browsers/forget', '/mfa/browsers/forget-all'],
    'the page has these forms',
  );
  for (const form of forms.filter((candidate) => candidate.action !== '/logout')) t.equal((await post(owner, form)).status, 204, `${form.action} at once: 204`);

  const after = await owner.get('/account');
  t.equal(after.status, 200, 'still signed in');
  t.match(after.text, /id="acknowledge-notices"/, 'the warning is still there to acknowledge');
  t.match(after.text, /id="remembered-browsers"/, 'the browser is still remembered');
  t.equal((await db.collection('mfa').findOne({}))?.rememberedDevices?.length, 1, 'in the database too');
  t.ok(await passwordWorks(app, username, TEST_PASSWORD), 'the password is unchanged');
});
