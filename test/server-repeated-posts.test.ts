// The ordinary accidents of people: a double click, a double tap, a reload. The page script
// (/page.js) keeps a browser from sending twins; these tests send them anyway, as a browser
// without the script, a slow link or a retrying client would, and check nothing is lost.
import t, { type Test } from 'tap';
import {
  TEST_PASSWORD,
  TestClient,
  TotpDevice,
  createMfaUser,
  readCsrfToken,
  readTwinKey,
  readFormId,
  registerAndLogIn,
  startTestApp,
  type TestResponse,
} from './helpers/server.js';

function codesOn(page: TestResponse): string[] {
  return [...page.text.matchAll(/<li><code>([0-9A-Z-]+)<\/code><\/li>/g)].map((match) => match[1]!);
}
const location = (response: TestResponse) => String(response.headers.location);

/** The codes page as a twin's browser sees it: it may first say they are being made, then show them. */
async function codesPageAfter(client: TestClient, url: string): Promise<TestResponse> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const page = await client.get(url);
    if (page.status !== 200 || !/id="codes-in-progress"/.test(page.text)) return page;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the codes never came');
}

/** A browser that passed the password step on the pages, at the code page, with the form it would send. */
async function atTheCodePage(t: Test) {
  const testApp = await startTestApp(t);
  const { username, device } = await createMfaUser(testApp.app);
  const client = new TestClient(testApp.app);
  await client.postForm('/login', { username, password: TEST_PASSWORD }, await client.get('/login'));
  const codePage = await client.get('/login/mfa');
  const fields = { token: await device.nextCode(), _csrf: readCsrfToken(codePage.text), twin: readTwinKey(codePage.text) };
  return { ...testApp, username, device, client, pendingCookie: client.sessionCookie!, fields };
}

t.test('two "Turn on" posts of one form at once make one set of codes, and both end on those codes', async (t) => {
  const { app, db } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const { page: setup } = await client.submitForm('/mfa/setup', {}, await client.get('/account'));
  const device = new TotpDevice(/id="totp-secret">([A-Z2-7 ]+)</.exec(setup.text)![1]!.replace(/ /g, ''));
  const fields = { token: await device.nextCode(), _csrf: readCsrfToken(setup.text), formId: readFormId(setup.text) };

  const [first, twin] = await Promise.all([client.postForm('/mfa/confirm', fields), client.postForm('/mfa/confirm', fields)]);
  t.same([first.status, twin.status], [303, 303]);
  const targets = [location(first), location(twin)].sort();
  t.match(targets, [/^\/mfa\/backup-codes\/new$/, /^\/mfa\/backup-codes\/new\?form=/], 'one made the codes, the twin waits for them');
  const shown = await codesPageAfter(client, targets[1]!);
  const codes = codesOn(shown);
  t.equal(codes.length, 10, 'the twin ends on the codes');
  t.notMatch(shown.text, /not valid|already been used/);
  const mfa = await db.collection('mfa').findOne({});
  t.equal(mfa?.failedAttempts, 0, 'the twin counted no failure');

  // The codes on screen are the ones that work.
  const username = /id="nav-account">([^<]+)</.exec((await client.get('/account')).text)![1]!;
  await client.post('/api/logout');
  const other = new TestClient(app);
  await other.post('/api/login', { username, password: TEST_PASSWORD });
  t.equal((await other.post('/api/login/mfa', { token: codes[0] })).status, 200, 'a code from the screen signs in');
});

t.test('"Make new codes" clicked twice makes one new set; both answers show it; a reload shows it again', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const setup = await client.post('/api/mfa/setup', {});
  const device = new TotpDevice(setup.json.secret);
  const original = (await client.post('/api/mfa/confirm', { token: await device.nextCode() })).json.backupCodes as string[];

  const form = await client.get('/mfa/backup-codes');
  const fields = { token: original[0]!, _csrf: readCsrfToken(form.text), formId: readFormId(form.text) };
  const [first, twin] = await Promise.all([client.postForm('/mfa/backup-codes', fields), client.postForm('/mfa/backup-codes', fields)]);
  const shownByTwin = await codesPageAfter(client, location(twin));
  const shownByFirst = await codesPageAfter(client, location(first));
  const fresh = codesOn(shownByFirst);
  t.equal(fresh.length, 10);
  t.same(codesOn(shownByTwin), fresh, 'the same new set either way');
  t.same(codesOn(await client.get('/mfa/backup-codes/new')), fresh, 'Reload: the same codes');
  const status = await client.get('/api/me');
  t.equal(status.json.mfa.remainingBackupCodes, 10, 'one set made, not two (the second would have used another code)');

  const username = status.json.username as string;
  const other = new TestClient(app);
  await other.post('/api/login', { username, password: TEST_PASSWORD });
  t.equal((await other.post('/api/login/mfa', { token: fresh[3] })).status, 200, 'the new codes on screen work');
  await other.post('/api/logout');
  await other.post('/api/login', { username, password: TEST_PASSWORD });
  t.equal((await other.post('/api/login/mfa', { token: original[1] })).status, 401, 'the old set is dead');
});

t.test('a second Verify that arrives after its twin signed in lands on the account page, signed in', async (t) => {
  const { app, db, username, device, client, pendingCookie, fields } = await atTheCodePage(t);

  // The first request's answer never reaches the browser: it keeps the pending cookie.
  const first = await client.postForm('/login/mfa', fields);
  t.equal(location(first), '/account');
  client.cookies.set('sid', pendingCookie);
  const twin = await client.postForm('/login/mfa', fields);
  t.equal(twin.status, 303);
  t.equal(location(twin), '/account', 'the twin follows the login, not "Form expired"');
  t.not(client.sessionCookie, pendingCookie, 'and gets the new session');
  const account = await client.get('/account');
  t.equal(account.status, 200);
  t.match(account.text, new RegExp(`id="account-username">${username}<`));
  t.equal((await db.collection('mfa').findOne({}))?.failedAttempts, 0, 'no failure counted');

  // Someone else's old cookie (a fresh pending login that never finished) is not forwarded anywhere.
  const stranger = new TestClient(app);
  await stranger.postForm('/login', { username, password: TEST_PASSWORD }, await stranger.get('/login'));
  const strangerPage = await stranger.get('/login/mfa');
  const wrong = await stranger.postForm('/login/mfa', { token: await device.wrongCode(), _csrf: readCsrfToken(strangerPage.text) });
  t.equal(location(wrong), '/login/mfa');
});

t.test('two Verify posts at once with one code: the person ends signed in, whichever answer arrives', async (t) => {
  const { app, username, client, pendingCookie, fields } = await atTheCodePage(t);
  const answers = await Promise.all([client.postForm('/login/mfa', fields), client.postForm('/login/mfa', fields)]);
  for (const answer of answers) {
    const browser = new TestClient(app);
    browser.cookies.set('sid', pendingCookie);
    for (const cookie of (answer.headers['set-cookie'] ? [answer.headers['set-cookie']].flat() : [])) {
      const [pair] = String(cookie).split(';');
      const [name, value] = pair!.split('=');
      if (name === 'sid' && value) browser.cookies.set('sid', value);
    }
    const next = await browser.get(location(answer));
    const landed = next.status === 303 ? await browser.get(location(next)) : next;
    t.match(landed.text, new RegExp(`id="account-username">${username}<`), 'this answer leads to the account page');
  }
});

t.test('JSON API: a repeated confirm from the session that just confirmed is a 409 that says where the codes are', async (t) => {
  const { app, db } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const setup = await client.post('/api/mfa/setup', {});
  const code = await new TotpDevice(setup.json.secret).nextCode();
  t.equal((await client.post('/api/mfa/confirm', { token: code })).status, 200);
  const again = await client.post('/api/mfa/confirm', { token: code });
  t.equal(again.status, 409);
  t.match(again.json.error, /already on.*make new ones/);
  t.equal((await db.collection('mfa').findOne({}))?.failedAttempts, 0, 'not counted as a wrong code');
});
