import t from 'tap';
import { REUSED_CODE_MESSAGE } from '../lib/index.js';
import { REUSED_CODE_PAGE_MESSAGE } from '../server/views/code-failure-words.js';
import { TEST_PASSWORD, TestClient, TotpDevice, registerAndLogIn, startTestApp } from './helpers/server.js';

// The first try after setup: the person signs out and straight back in with the code still on their
// phone, the one that just confirmed the setup. It is `reused`, costs nothing, and says to wait.

async function setUpWithConfirmingCode(app: TestClient['app']) {
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  const setup = await client.post('/api/mfa/setup', {});
  const device = new TotpDevice(setup.json.secret);
  const confirmingCode = await device.nextCode();
  t.equal((await client.post('/api/mfa/confirm', { token: confirmingCode })).status, 200);
  await client.post('/api/logout');
  return { username, device, confirmingCode };
}

t.test('the JSON API: the code that confirmed the setup, at the next sign-in, is reused (401), however often, and never throttles', async (t) => {
  const { app } = await startTestApp(t);
  const { username, device, confirmingCode } = await setUpWithConfirmingCode(app);
  const client = new TestClient(app);
  await client.post('/api/login', { username, password: TEST_PASSWORD });
  for (let i = 0; i < 7; i++) {
    const again = await client.post('/api/login/mfa', { token: confirmingCode });
    t.equal(again.status, 401, `try ${i + 1}`);
    t.same(again.json, { error: REUSED_CODE_MESSAGE });
  }
  const next = await client.post('/api/login/mfa', { token: await device.nextCode() });
  t.equal(next.status, 200, 'past the throttle (5 failures): none of them was charged');
});

t.test('the code page: the just-used code reads "wait for the next code", and a wrong one still reads wrong', async (t) => {
  const { app } = await startTestApp(t);
  const { username, device, confirmingCode } = await setUpWithConfirmingCode(app);
  const client = new TestClient(app);
  const login = await client.get('/login');
  const codePage = (await client.submitForm('/login', { username, password: TEST_PASSWORD }, login)).page;
  const reused = await client.submitForm('/login/mfa', { token: confirmingCode }, codePage);
  t.equal(reused.post.headers.location, '/login/mfa');
  t.match(reused.page.text, REUSED_CODE_PAGE_MESSAGE);
  const wrong = await client.submitForm('/login/mfa', { token: await device.wrongCode() }, reused.page);
  t.match(wrong.page.text, /not valid or has already been used/);
  t.notMatch(wrong.page.text, REUSED_CODE_PAGE_MESSAGE);
});
