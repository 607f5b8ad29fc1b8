// The password step's per-username throttle and the per-process bound on bcrypt work, over real HTTP
// from many local addresses (127.0.0.2 to 127.0.0.13). The bcrypt checks are counted from the log:
// each wrong password checked writes one 'password step refused' line, each refusal before a check
// one 'password step throttled'.
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { logDestination } from '../server/app/logger.js';
import { clientAddresses, localRequest, type LocalResponse } from './helpers/local-http.js';
import { logCollector } from './helpers/log-collector.js';
import { readCsrfToken, registerUser, startTestApp, TEST_PASSWORD, TestClient, uniqueUsername } from './helpers/server.js';
import { openTestDatabase } from './helpers/database.js';
import { testConfig } from './helpers/server.js';
import { buildApp } from '../server/build-app.js';

const WRONG = 'not the password at all';
const FREE_FAILURES = 5;

async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' });
}

function countLines(lines: string[], message: string): number {
  return lines.filter((line) => JSON.parse(line).msg === message).length;
}

/** A browser on the login page from `address`: its cookies and the form's CSRF token. */
async function loginPage(baseUrl: string, localAddress: string): Promise<{ cookies: Map<string, string>; csrf: string }> {
  const cookies = new Map<string, string>();
  const page = await localRequest(baseUrl, { path: '/login', localAddress, cookies });
  return { cookies, csrf: readCsrfToken(page.text) };
}

function jsonLogin(baseUrl: string, localAddress: string, username: string, password: string): Promise<LocalResponse> {
  return localRequest(baseUrl, { path: '/api/login', localAddress, json: { username, password } });
}

/**
 * Checks the policy allows in a burst of `elapsedMs`: the free failures, then one more each time a wait
 * (1 s, 2 s, 4 s, ...) has passed.
 */
function allowedChecks(elapsedMs: number): number {
  let allowed = FREE_FAILURES;
  for (let waited = 1000, wait = 1000; waited <= elapsedMs; wait *= 2, waited += wait) allowed++;
  return allowed;
}

/** A wrong password answered after a check: 401 on the API, a redirect back to the form on the page. */
const checkedWrong = (response: LocalResponse) => response.status === 401 || (response.status === 303 && response.headers.location === '/login');
/** A throttled guess: a 429 on the API, a redirect to the page that says the wait on the form (Post/Redirect/Get). */
const waitPage = (response: LocalResponse) => response.status === 303 && String(response.headers.location).startsWith('/too-many-attempts?');
const throttledGuess = (response: LocalResponse) => response.status === 429 || waitPage(response);

t.test('120 parallel guesses on one account from 12 addresses, JSON and HTML mixed: 5 bcrypt checks, the rest 429 with Retry-After (the form: a redirect to the wait page)', async (t) => {
  const logs = logCollector();
  const { app } = await startTestApp(t, { bcryptCost: 8, logger: { level: 'info', stream: logDestination('json', logs.stream) } });
  const baseUrl = await listen(app);
  const victim = await registerUser(new TestClient(app));
  const bystander = await registerUser(new TestClient(app));
  const addresses = clientAddresses(12);
  const pages = await Promise.all(addresses.map((address) => loginPage(baseUrl, address)));

  const idleStart = Date.now();
  t.equal((await jsonLogin(baseUrl, '127.0.0.1', bystander, TEST_PASSWORD)).status, 200);
  const idleMs = Date.now() - idleStart;
  logs.lines.length = 0;

  const floodStart = Date.now();
  const guesses = Array.from({ length: 120 }, (_, i) => {
    const address = addresses[i % addresses.length]!;
    if (i % 2 === 0) return jsonLogin(baseUrl, address, victim, `${WRONG} ${i}`);
    const { cookies, csrf } = pages[i % pages.length]!;
    return localRequest(baseUrl, { path: '/login', localAddress: address, cookies: new Map(cookies), form: { _csrf: csrf, username: victim.toUpperCase(), password: `${WRONG} ${i}` } });
  });
  // Meanwhile, someone else signs in to their own account.
  const honestStart = Date.now();
  const honest = await jsonLogin(baseUrl, '127.0.0.1', bystander, TEST_PASSWORD);
  const honestMs = Date.now() - honestStart;
  const answers = await Promise.all(guesses);
  const floodMs = Date.now() - floodStart;

  const checked = answers.filter(checkedWrong);
  const throttled = answers.filter(throttledGuess);
  const allowed = allowedChecks(floodMs);
  t.ok(checked.length >= FREE_FAILURES && checked.length <= allowed, `${checked.length} guesses were checked (at most ${allowed} in ${floodMs} ms)`);
  t.equal(checked.length + throttled.length, answers.length, 'every other guess was refused before any check');
  t.equal(countLines(logs.lines, 'password step refused'), checked.length, 'one bcrypt check per checked guess, counted in the log');
  t.equal(countLines(logs.lines, 'password step throttled'), throttled.length);
  for (const response of throttled) {
    if (waitPage(response)) {
      const query = new URL(String(response.headers.location), baseUrl).searchParams;
      if (query.get('kind') !== 'passwords' || !(Number(query.get('until')) > floodStart)) t.fail(`a wait page without its wait: ${response.headers.location}`);
      continue;
    }
    const seconds = Number(response.headers['retry-after']);
    if (!(seconds >= 1)) t.fail(`a 429 without Retry-After: ${JSON.stringify(response.headers)}`);
    t.match(response.json, { error: /^Too many wrong passwords for this username in a row\. Try again in /, retryAfterSeconds: seconds });
  }
  t.ok(throttled.some((response) => response.json) && throttled.some(waitPage), 'both routes were throttled: one count for both');

  t.equal(honest.status, 200, 'the other account signed in during the flood');
  t.ok(honestMs < idleMs * 10 + 5000, `in ${honestMs} ms, against ${idleMs} ms idle`);
});

t.test('a new address and a new session do not reset the count; the right password waits like a wrong one, then works', async (t) => {
  const { app } = await startTestApp(t);
  const baseUrl = await listen(app);
  const username = await registerUser(new TestClient(app));
  for (let i = 0; i < FREE_FAILURES; i++) t.equal((await jsonLogin(baseUrl, '127.0.0.2', username, WRONG)).status, 401);

  const elsewhere = await jsonLogin(baseUrl, '127.0.0.3', username, TEST_PASSWORD);
  t.equal(elsewhere.status, 429, 'a fresh session from another address waits too, right password or not: no oracle');
  t.equal(elsewhere.json.retryAfterSeconds, 1);
  const { cookies, csrf } = await loginPage(baseUrl, '127.0.0.4');
  const post = await localRequest(baseUrl, { path: '/login', localAddress: '127.0.0.4', cookies, form: { _csrf: csrf, username, password: TEST_PASSWORD } });
  t.ok(waitPage(post), 'the HTML form shares the count');
  const page = await localRequest(baseUrl, { path: String(post.headers.location), localAddress: '127.0.0.4', cookies });
  t.equal(page.status, 429);
  t.equal(page.headers['retry-after'], '1');
  t.match(page.text, /Too many wrong passwords for this username in a row\. Try again in 1 second\./);

  await new Promise((resolve) => setTimeout(resolve, 1100));
  const after = await jsonLogin(baseUrl, '127.0.0.5', username, TEST_PASSWORD);
  t.equal(after.status, 200, 'after the wait the right password signs in');
  for (let i = 0; i < FREE_FAILURES; i++) t.equal((await jsonLogin(baseUrl, '127.0.0.2', username, WRONG)).status, 401, 'and the count started again from zero');
});

t.test('an unknown username is counted the same way, with the same words: the answers do not tell which names exist', async (t) => {
  const { app } = await startTestApp(t);
  const baseUrl = await listen(app);
  const known = await registerUser(new TestClient(app));
  const unknown = uniqueUsername('nobody');
  const answers: Record<string, LocalResponse[]> = { known: [], unknown: [] };
  for (let i = 0; i <= FREE_FAILURES; i++) {
    answers.known!.push(await jsonLogin(baseUrl, '127.0.0.2', known, WRONG));
    answers.unknown!.push(await jsonLogin(baseUrl, '127.0.0.2', unknown, WRONG));
  }
  t.same(answers.known!.map((r) => r.status), answers.unknown!.map((r) => r.status));
  t.same(answers.known!.map((r) => r.json), answers.unknown!.map((r) => r.json));
  t.equal(answers.unknown!.at(-1)!.status, 429);
});

t.test('the count is in MongoDB: another instance on the same database refuses the sixth guess', async (t) => {
  const { db } = await openTestDatabase(t);
  const config = testConfig();
  const first = await startTestApp(t, { db, config });
  const second = await buildApp({ db, config, bcryptCost: 4 });
  t.teardown(() => second.close());
  const username = await registerUser(new TestClient(first.app));
  for (let i = 0; i < FREE_FAILURES; i++) t.equal((await new TestClient(first.app).post('/api/login', { username, password: WRONG })).status, 401);
  t.equal((await new TestClient(second).post('/api/login', { username, password: WRONG })).status, 429);
});

t.test('past the bcrypt turns and their queue: 503 with Retry-After, and nothing counted against the name', async (t) => {
  const { app } = await startTestApp(t, { bcryptCost: 10, passwordWork: { concurrency: 1, queue: 1 } });
  const baseUrl = await listen(app);
  const usernames: string[] = [];
  for (let i = 0; i < 12; i++) usernames.push(await registerUser(new TestClient(app)));
  const answers = await Promise.all(usernames.map((username, i) => jsonLogin(baseUrl, clientAddresses(12)[i]!, username, TEST_PASSWORD)));
  const busy = answers.map((response, i) => ({ response, username: usernames[i]! })).filter(({ response }) => response.status === 503);
  t.ok(busy.length > 0, `${busy.length} of 12 were refused as busy`);
  t.same([...new Set(answers.map((response) => response.status))].sort(), [200, 503], 'the others signed in');
  for (const { response } of busy) {
    t.equal(response.headers['retry-after'], '1');
    t.match(response.json, { error: /busy checking other sign-ins; nothing was counted against you/, retryAfterSeconds: 1 });
  }
  const { username } = busy[0]!;
  for (let i = 0; i < FREE_FAILURES; i++) t.equal((await jsonLogin(baseUrl, '127.0.0.2', username, WRONG)).status, 401, 'the busy answer cost none of the free failures');
});

t.test("a stranger's guesses do not keep the owner's known browser out: it has a count of its own", async (t) => {
  const { app } = await startTestApp(t);
  const baseUrl = await listen(app);
  const username = await registerUser(new TestClient(app));
  // The owner's browser signed in here before, and kept the cookie that says so.
  const owner = new Map<string, string>();
  t.equal((await localRequest(baseUrl, { path: '/api/login', localAddress: '127.0.0.2', cookies: owner, json: { username, password: TEST_PASSWORD } })).status, 200);
  t.ok(owner.has('known_login'), 'the right password made this browser known');
  await localRequest(baseUrl, { path: '/api/logout', localAddress: '127.0.0.2', cookies: owner, headers: { 'content-type': 'application/json' }, method: 'POST' });

  const guesses = await Promise.all(clientAddresses(12).map((address, i) => jsonLogin(baseUrl, address, username, `${WRONG} ${i}`)));
  t.ok(guesses.filter((response) => response.status === 429).length >= 12 - FREE_FAILURES, 'the guesses made the name wait');
  t.equal((await jsonLogin(baseUrl, '127.0.0.3', username, TEST_PASSWORD)).status, 429, 'a browser that is not known waits, right password or not');

  const known = await localRequest(baseUrl, { path: '/api/login', localAddress: '127.0.0.2', cookies: owner, json: { username, password: TEST_PASSWORD } });
  t.equal(known.status, 200, 'the known browser signs in at once');

  // Its own count is throttled like any other, and a cookie made for another name counts for nothing.
  for (let i = 0; i < FREE_FAILURES; i++) {
    t.equal((await localRequest(baseUrl, { path: '/api/login', localAddress: '127.0.0.2', cookies: owner, json: { username, password: WRONG } })).status, 401);
  }
  t.equal((await localRequest(baseUrl, { path: '/api/login', localAddress: '127.0.0.2', cookies: owner, json: { username, password: WRONG } })).status, 429);
  const other = await registerUser(new TestClient(app));
  const otherBrowser = new Map<string, string>();
  t.equal((await localRequest(baseUrl, { path: '/api/login', localAddress: '127.0.0.4', cookies: otherBrowser, json: { username: other, password: TEST_PASSWORD } })).status, 200);
  const borrowed = await localRequest(baseUrl, { path: '/api/login', localAddress: '127.0.0.4', cookies: otherBrowser, json: { username, password: TEST_PASSWORD } });
  t.equal(borrowed.status, 429, "another account's known-browser cookie is the shared count");
  const forged = new Map([['known_login', `${owner.get('known_login')!.slice(0, -2)}AA`]]);
  t.equal((await jsonLoginWith(baseUrl, forged, username)).status, 429, 'an altered cookie is the shared count');
});

t.test("a known-browser cookie planted by someone who knows the password shares the owner's count only until the owner's next right password", async (t) => {
  const { app } = await startTestApp(t);
  const baseUrl = await listen(app);
  const username = await registerUser(new TestClient(app));
  const login = (address: string, cookies: Map<string, string>, password: string) =>
    localRequest(baseUrl, { path: '/api/login', localAddress: address, cookies, json: { username, password } });
  // The intruder signs in with the password, keeps the cookie that makes a browser known, and plants a copy in the owner's browser.
  const intruder = new Map<string, string>();
  t.equal((await login('127.0.0.2', intruder, TEST_PASSWORD)).status, 200);
  const planted = new Map([['known_login', intruder.get('known_login')!]]);
  const owner = new Map(planted);

  // Their wrong passwords with that copy fill the count the owner's browser now uses.
  for (let i = 0; i < FREE_FAILURES; i++) t.equal((await login('127.0.0.2', new Map(planted), WRONG)).status, 401);
  const refused = await login('127.0.0.3', owner, TEST_PASSWORD);
  t.equal(refused.status, 429, 'the owner waits');
  const wait = Number(refused.headers['retry-after']);
  t.ok(wait >= 1 && wait <= 60, `for a bounded time (${wait} s), the policy's, never longer than a minute before the 100th failure`);

  await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 100));
  t.equal((await login('127.0.0.3', owner, TEST_PASSWORD)).status, 200, 'then the right password gets in');
  t.not(owner.get('known_login'), planted.get('known_login'), 'and gives the browser a new count');

  for (let i = 0; i < FREE_FAILURES + 3; i++) await login('127.0.0.2', new Map(planted), WRONG);
  t.equal((await login('127.0.0.3', owner, TEST_PASSWORD)).status, 200, "the intruder's copy no longer makes the owner wait");
});

function jsonLoginWith(baseUrl: string, cookies: Map<string, string>, username: string): Promise<LocalResponse> {
  return localRequest(baseUrl, { path: '/api/login', localAddress: '127.0.0.5', cookies, json: { username, password: TEST_PASSWORD } });
}
