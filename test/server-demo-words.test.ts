// Words a person meets on the demo's pages and API (issue 15): each one as it should read, and the
// behaviours that decide which words are shown.
import t from 'tap';
import { describeWait, formatDeadline, formatMoment, retryAfterWords } from '../server/app/time-words.js';
import { LOCKED_MESSAGE, LOCKED_SIGNED_IN_MESSAGE, MALFORMED_CODE_MESSAGE } from '../server/views/code-failure-words.js';
import { TEST_PASSWORD, TestClient, createMfaUser, enableMfa, pendingClient, registerAndLogIn, startTestApp } from './helpers/server.js';

const QUICK_LOCK = { mfa: { throttle: { throttleAfterFailures: 10, lockAfterFailures: 1 } } };

t.test('the JSON API: the wrong code that locks carries retryAfterSeconds and Retry-After, like every other wait', async (t) => {
  const { app } = await startTestApp(t, QUICK_LOCK);
  const { username, device } = await createMfaUser(app);
  const client = await pendingClient(app, username);
  const locking = await client.post('/api/login/mfa', { token: await device.wrongCode() });
  t.equal(locking.status, 401);
  t.equal(locking.json.retryAfterSeconds, 900);
  t.equal(locking.headers['retry-after'], '900');
  const other = await startTestApp(t);
  const plainWrong = await (await pendingClient(other.app, (await createMfaUser(other.app)).username)).post('/api/login/mfa', { token: '000000' });
  t.equal(plainWrong.status, 401);
  t.equal(plainWrong.headers['retry-after'], undefined, 'a wrong code that locks nothing has no wait');
});

t.test('a lock met while signed in points to the account page, not to "once you are signed in"', async (t) => {
  const { app } = await startTestApp(t, QUICK_LOCK);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const { device } = await enableMfa(client);
  const page = await client.get('/mfa/disable');
  const { page: locked } = await client.submitForm('/mfa/disable', { token: await device.wrongCode() }, page);
  t.match(locked.text, LOCKED_SIGNED_IN_MESSAGE);
  t.notMatch(locked.text, /once you are signed in/);
  const pending = await pendingClient(app, (await createMfaUser(app)).username);
  const codePage = await pending.get('/login/mfa');
  const { page: signInLocked } = await pending.submitForm('/login/mfa', { token: '000000' }, codePage);
  t.match(signInLocked.text, LOCKED_MESSAGE, 'on the sign-in, where the person is not signed in yet, it still says so');
});

t.test('a malformed code: the backup code as it is shown, not "10-character"', async (t) => {
  t.match(MALFORMED_CODE_MESSAGE, /ABCDE-12345/);
  t.notMatch(MALFORMED_CODE_MESSAGE, /10-character/);
});

t.test('"Cancel sign-in" says the sign-in was cancelled; "Sign out" says you are signed out', async (t) => {
  const { app } = await startTestApp(t);
  const { username } = await createMfaUser(app);
  const pending = await pendingClient(app, username);
  const codePage = await pending.get('/login/mfa');
  const cancelled = await pending.submitForm('/logout', {}, codePage);
  t.equal(cancelled.post.headers.location, '/login?notice=sign-in-cancelled');
  t.match(cancelled.page.text, /Sign-in cancelled\./);
  t.notMatch(cancelled.page.text, /You are signed out/);

  const signedIn = new TestClient(app);
  await registerAndLogIn(signedIn);
  const account = await signedIn.get('/account');
  const out = await signedIn.submitForm('/logout', {}, account);
  t.match(out.page.text, /You are signed out\./);
});

t.test('a session ended elsewhere says "You were signed out"; a planted cookie of such a session only shows those words', async (t) => {
  const { app } = await startTestApp(t);
  const here = new TestClient(app);
  const username = await registerAndLogIn(here);
  const elsewhere = new TestClient(app);
  await elsewhere.post('/api/login', { username, password: TEST_PASSWORD });
  const changed = await here.post('/api/me/password', { currentPassword: TEST_PASSWORD, newPassword: `${TEST_PASSWORD} 2` });
  t.equal(changed.status, 200);

  const bounced = await elsewhere.get('/account');
  t.equal(bounced.status, 303);
  t.equal(bounced.headers.location, '/login?notice=signed-out-elsewhere');
  t.match((await elsewhere.get(String(bounced.headers.location))).text, /You were signed out/);

  // Someone plants that ended session's cookie in another browser: it is signed out, shows no one's data.
  const victim = new TestClient(app);
  victim.cookies.set('sid', elsewhere.sessionCookie!);
  const planted = await victim.get('/account');
  t.equal(planted.headers.location, '/login?notice=signed-out-elsewhere');
  t.equal((await victim.get('/api/me')).status, 401, 'nobody is signed in');
  const loginPage = await victim.get('/login');
  t.notMatch(loginPage.text, new RegExp(username), 'no name shown');
  const fresh = new TestClient(app);
  t.equal((await fresh.get('/account')).headers.location, '/login', 'a browser never signed in gets no such words');
});

t.test('a second tab on the code page, once the first tab signed in, goes to the account page', async (t) => {
  const { app } = await startTestApp(t);
  const { username, device } = await createMfaUser(app);
  const browser = await pendingClient(app, username);
  const firstTab = await browser.get('/login/mfa');
  const secondTab = await browser.get('/login/mfa');
  t.equal((await browser.submitForm('/login/mfa', { token: await device.nextCode() }, firstTab)).post.headers.location, '/account');
  const second = await browser.submitForm('/login/mfa', { token: await device.nextCode() }, secondTab);
  t.equal(second.post.status, 303);
  t.equal(second.post.headers.location, '/account');
  t.match(second.page.text, /id="account-username"/, 'the account page');
  t.notMatch(second.page.text, /did not come from this site/);
});

/** The wait page a rate-limited form post leads to, by its redirect. */
const WAIT_PAGE = /^\/too-many-attempts\?/;

t.test('a form over the per-address rate limit: a redirect to a page that says the wait in words, whose Reload posts nothing', async (t) => {
  const { app } = await startTestApp(t, { config: { rateLimitMax: 2 } });
  const client = new TestClient(app);
  const page = await client.get('/login');
  for (let i = 0; i < 2; i++) await client.postForm('/login', { username: 'nobody', password: 'wrong password' }, page);
  const limited = await client.postForm('/login', { username: 'nobody', password: 'wrong password' }, page);
  t.equal(limited.status, 303, 'answered by a redirect');
  t.match(String(limited.headers.location), WAIT_PAGE);
  const waitPage = await client.get(String(limited.headers.location));
  t.equal(waitPage.status, 429, 'still a refusal to a program that follows it');
  // A sliding window of a minute, aligned to the clock's minutes: the wait is anything up to two minutes,
  // said in minutes with the moment it ends, or in seconds under one.
  t.match(waitPage.text, /id="wait-message">Too many attempts\. Try again in (\d{1,2} seconds?|about (a minute|2 minutes), from <time datetime="[^"]+">\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC<\/time>)\./);
  t.notMatch(waitPage.text, /\d+ s\b/, 'no wait in raw seconds');
  t.match(waitPage.text, /<a href="\/login" id="wait-back-link">/, 'the way back to the form');
  const retryAfter = Number(waitPage.headers['retry-after']);
  const inSeconds = /Try again in (\d+) seconds?\./.exec(waitPage.text);
  if (inSeconds) t.ok(Math.abs(Number(inSeconds[1]) - retryAfter) <= 1, 'Retry-After is the wait the page shows');
  else t.ok(retryAfter >= 59 && retryAfter <= 120, 'Retry-After is the wait the page shows, a minute or two');

  // Reload is a GET of the same address: it counts nothing, so the limit does not grow.
  const reloaded = await client.get(String(limited.headers.location));
  t.equal(reloaded.status, 429);
  t.match(reloaded.text, /Too many attempts\./);

  const api = await client.post('/api/login', { username: 'nobody', password: 'wrong password' });
  t.ok(api.status === 429 || api.status === 401, 'the API keeps its own answers');
});

t.test('the wait page once the wait is over, and with an address someone edited', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const over = await client.get(`/too-many-attempts?kind=attempts&until=${Date.now() - 1000}&back=/login`);
  t.equal(over.status, 200);
  t.match(over.text, /The wait is over: you can try again now\./);
  t.equal(over.headers['retry-after'], undefined);

  const soon = await client.get(`/too-many-attempts?kind=passwords&until=${Date.now() + 4_500}&back=/register`);
  t.match(soon.text, /Too many wrong passwords for this username in a row\. Try again in 5 seconds\./, 'seconds, without a clock time, under a minute');
  t.match(soon.text, /href="\/register"/);

  const offSite = await client.get(`/too-many-attempts?until=${Date.now() + 4_000}&back=${encodeURIComponent('//evil.example/login')}`);
  t.equal(offSite.status, 400, 'a way back that is not a path of this site');
  t.match(offSite.text, /The page to go back to is not valid/);
  const noPage = await client.get(`/too-many-attempts?until=${Date.now() + 4_000}&back=/no-such-page`);
  t.match(noPage.text, /<a href="\/" id="wait-back-link">/, 'a path that is no page goes back to the start');
  const far = await client.get(`/too-many-attempts?until=${Date.now() + 400 * 86_400_000}`);
  t.match(far.text, /Try again in about 2 minutes/, 'an edited wait is never longer than its limit can make it (the per-address limit: two sliding minutes)');
  t.equal((await client.get('/too-many-attempts')).status, 400, 'no wait at all');
});

t.test('the password throttle on the form: the same page, with its own words', async (t) => {
  const { app } = await startTestApp(t, { passwordThrottle: { freeFailures: 1 } });
  const client = new TestClient(app);
  const username = await registerAndLogIn(new TestClient(app));
  const page = await client.get('/login');
  let limited;
  for (let i = 0; i < 10; i++) {
    limited = await client.postForm('/login', { username, password: 'wrong password' }, page);
    if (String(limited.headers.location).startsWith('/too-many-attempts')) break;
  }
  t.match(String(limited!.headers.location), WAIT_PAGE, 'a redirect, not a page answering the post');
  const waitPage = await client.get(String(limited!.headers.location));
  t.match(waitPage.text, /Too many wrong passwords for this username in a row\. Try again in \d+ seconds?\./);
});

t.test('times and waits: one style, in UTC and saying so, the end of a wait never shown as already over', async (t) => {
  t.equal(formatMoment(new Date('2026-12-07T15:15:59.352Z')), '7 Dec 2026, 15:15 UTC');
  t.equal(formatDeadline(new Date('2026-12-07T15:59:20Z')), '7 Dec 2026, 16:00 UTC', 'rounded up: at 15:59 it is not over');
  t.equal(formatDeadline(new Date('2026-12-07T15:59:00Z')), '7 Dec 2026, 15:59 UTC');
  t.equal(formatDeadline(new Date('2026-12-31T23:59:30Z')), '1 Jan 2027, 00:00 UTC');
  t.same([1, 4, 59, 60, 89, 900, 3600, 7200].map(describeWait), ['1 second', '4 seconds', '59 seconds', 'about a minute', 'about a minute', 'about 15 minutes', 'about an hour', 'about 2 hours']);
  t.equal(retryAfterWords(4), 'Try again in 4 seconds.');
  t.equal(retryAfterWords(900, new Date('2026-12-07T15:44:10Z')), 'Try again in about 15 minutes, from 7 Dec 2026, 16:00 UTC.');
});

t.test('the account page: remembered browsers and the activity in that style, the browser named once, no local-time rewriting', async (t) => {
  const { app } = await startTestApp(t);
  const firefox = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' };
  const { username, device } = await createMfaUser(app);
  const client = await pendingClient(app, username, firefox);
  const codePage = await client.get('/login/mfa');
  await client.submitForm('/login/mfa', { token: await device.nextCode(), rememberBrowser: 'yes' }, codePage);
  await app.securityActivity.settled();
  const account = await client.get('/account');
  const moment = '<time datetime="[^"]+">\\d{1,2} \\w{3} \\d{4}, \\d\\d:\\d\\d UTC</time>';
  t.match(account.text, new RegExp(`Remembered ${moment}; not used since; until ${moment}`), 'the browser list: no 2026-12-07');
  t.match(account.text, new RegExp(`A browser was remembered, so it signs in without a code until \\d{1,2} \\w{3} \\d{4}, \\d\\d:\\d\\d UTC, ${moment} from 127\\.0\\.0\\.1, Firefox on Linux<`));
  t.notMatch(account.text, /Firefox on Linux[^<]*Firefox on Linux/, 'the browser named once per line');
  t.notMatch(account.text.replace(/<[^>]*>/g, ''), /\d{4}-\d\d-\d\d/, 'no ISO dates in the text (only in the datetime attributes)');
  t.notMatch(account.text, /data-local/, 'no time the script rewrites into another zone');
  const script = await client.get('/page.js');
  t.notMatch(script.text, /toLocale/, 'the script leaves times as written');
  const api = await client.get('/api/me/activity');
  const remembered = api.json.events.find((event: { type: string }) => event.type === 'device_remembered');
  t.match(remembered, { at: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, browser: 'Firefox on Linux' }, 'machine fields stay ISO');
  t.match(remembered.description, /until \d{1,2} \w{3} \d{4}, \d\d:\d\d UTC$/, 'the words say the browser once: the field beside them names it');
});

t.test('the JSON API: a request that does not fit the schema is a 400 in words, with reason and field beside them', async (t) => {
  const { app } = await startTestApp(t);
  const anonymous = new TestClient(app);
  const cases: Array<[string, unknown, string, string | undefined]> = [
    ['/api/register', { username: 'someone' }, 'Password is required', 'password'],
    ['/api/register', { username: 42, password: TEST_PASSWORD }, 'Username must be text', 'username'],
    ['/api/login', { username: '', password: TEST_PASSWORD }, 'Username must not be empty', 'username'],
    ['/api/login', { username: 'someone', password: TEST_PASSWORD, remember: true }, 'The request body has a field this request does not take: remember', 'remember'],
    ['/api/login', ['someone', TEST_PASSWORD], 'The request body must be a JSON object', undefined],
  ];
  for (const [route, body, message, field] of cases) {
    const answer = await anonymous.post(route, body);
    t.equal(answer.status, 400, `${route} ${JSON.stringify(body)}`);
    t.same(answer.json, { error: message, reason: 'invalid_request', ...(field === undefined ? {} : { field }) });
  }
  const secret = 'hunter2 with spaces';
  const oddKey = await anonymous.post('/api/login', { username: 'someone', password: TEST_PASSWORD, [secret]: 1 });
  t.same(oddKey.json, { error: 'The request body has a field this request does not take', reason: 'invalid_request' }, 'a key that is not a plain name is not repeated');

  const { username, device } = await createMfaUser(app);
  const pending = await pendingClient(app, username);
  const numeric = await pending.post('/api/login/mfa', { token: 123456 });
  t.same(numeric.json, { error: 'The code must be text', reason: 'invalid_request', field: 'token' });
  t.same((await pending.post('/api/login/mfa', { token: '123456', rememberBrowser: 'yes' })).json, {
    error: 'The choice to remember this browser (rememberBrowser) must be true or false',
    reason: 'invalid_request',
    field: 'rememberBrowser',
  });
  t.equal((await pending.post('/api/login/mfa', { token: await device.nextCode() })).status, 200, 'and nothing was charged: the right code signs in');

  const signedIn = pending;
  const badId = await signedIn.request({ method: 'DELETE', url: '/api/mfa/devices/not-an-id' });
  t.equal(badId.status, 400);
  t.same(badId.json, { error: "The remembered browser's id is not valid", reason: 'invalid_request', field: 'id' });
  const notices = await signedIn.post('/api/me/notices/acknowledge', { ids: ['nope'] });
  t.same(notices.json, { error: 'An item of the list of notice ids is not valid', reason: 'invalid_request', field: 'ids' });
  t.same((await signedIn.post('/api/me/notices/acknowledge', { ids: [] })).json.error, 'The list of notice ids must hold at least 1');
  const tooLong = await signedIn.post('/api/mfa/disable', { token: 'x'.repeat(200) });
  t.match(tooLong.json, { error: /^The code must be at most \d+ characters$/, reason: 'invalid_request', field: 'token' });
  for (const answer of [badId, notices, tooLong, numeric]) t.notMatch(answer.json.error, /must match pattern|body\/|params\//, 'no validator words');
});

t.test('a page whose query string does not fit: a 400 page in the same words', async (t) => {
  const { app } = await startTestApp(t);
  const page = await new TestClient(app).get('/too-many-attempts?until=soon');
  t.equal(page.status, 400);
  t.match(page.text, /id="error-message">The end of the wait is not valid</);
  t.match((await new TestClient(app).get('/too-many-attempts?kind=other&until=1')).text, /The kind of wait is not valid/);
});

t.test('every route of the API: a body of the wrong shape is a 400 in words, with reason invalid_request', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const document = (await client.get('/openapi.json')).json;
  let refused = 0;
  for (const [path, item] of Object.entries<Record<string, { requestBody?: { content: Record<string, { schema?: { type?: string } }> } }>>(document.paths)) {
    const operation = item.post;
    if (operation?.requestBody?.content['application/json']?.schema?.type !== 'object') continue;
    const answer = await client.post(path, ['not', 'an', 'object']);
    if (answer.status !== 400) continue; // a guard before the schema (a login still owing its second factor)
    refused++;
    t.same(answer.json, { error: 'The request body must be a JSON object', reason: 'invalid_request' }, path);
  }
  t.ok(refused >= 8, `${refused} routes checked`);
});

t.test('one name for the feature: "two-factor sign-in" in the API\'s words and its document; MFA only in identifiers', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const notOn = await client.post('/api/mfa/disable', { token: '123456' });
  t.equal(notOn.status, 409);
  t.same(notOn.json, { error: 'Two-factor sign-in is not on for this account' });
  t.match((await client.post('/api/mfa/confirm', { token: '123456' })).json, { error: 'No two-factor sign-in setup is in progress; start the setup again' });

  const document = (await client.get('/openapi.json')).json;
  const words: string[] = [];
  const collect = (value: unknown, key?: string): void => {
    if (typeof value === 'string' && (key === 'summary' || key === 'description' || key === 'title')) words.push(value);
    else if (value && typeof value === 'object') for (const [name, inner] of Object.entries(value)) collect(inner, name);
  };
  collect(document);
  t.ok(words.length > 50, `${words.length} summaries and descriptions`);
  // MFA_ENCRYPTION_KEY, /api/mfa, mfa_device stay: names, not words.
  t.same(words.filter((text) => /\bMFA\b(?!_)/.test(text)), [], 'no "MFA" in words a person reads');
});
