/**
 * The demo app on a fresh test database, a cookie-keeping client over
 * `inject`, an authenticator "phone", and the steps most tests start with.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Db } from 'mongodb';
import type { Test } from 'tap';
import { generateTotpCode, TOTP_PERIOD_SECONDS } from '../../lib/index.js';
import { buildApp, type BuildAppOptions } from '../../server/build-app.js';
import type { AppConfig } from '../../server/app/config.js';
import { SESSION_COOKIE_NAME } from '../../server/sessions/sessions.js';
import { openTestDatabase } from './database.js';

export const TEST_PASSWORD = 'correct horse battery staple';

/** A configuration for tests: fresh secrets, and a rate limit high enough not to get in the way. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    sessionSecret: randomBytes(32).toString('base64'),
    mfaEncryptionKey: randomBytes(32),
    mfaIssuer: 'TOTP Demo Test',
    rateLimitMax: 1000,
    production: false,
    trustProxy: false,
    ...overrides,
  };
}

export interface TestApp {
  app: FastifyInstance;
  db: Db;
  config: AppConfig;
}

/**
 * Builds the app with bcrypt cost 4 on a fresh database (or `options.db`); closed when `t` ends. Its
 * bound on bcrypt work is, like the rate limit, high enough not to get in the way of a test that
 * registers many users at once; a test of the bound sets `passwordWork`.
 */
export async function startTestApp(
  t: Test,
  options: Partial<Omit<BuildAppOptions, 'config'>> & { config?: Partial<AppConfig> } = {},
): Promise<TestApp> {
  const db = options.db ?? (await openTestDatabase(t)).db;
  const config = testConfig(options.config);
  const app = await buildApp({ bcryptCost: 4, passwordWork: { concurrency: 4, queue: 10_000 }, ...options, db, config });
  t.teardown(() => app.close());
  await app.ready();
  return { app, db, config };
}

/** A response with its body read once. */
export interface TestResponse {
  status: number;
  headers: LightMyRequestResponse['headers'];
  text: string;
  /** The body parsed as JSON; `undefined` when it is not JSON. */
  json: any;
}

/**
 * One browser: keeps cookies between requests like a browser does (set,
 * replaced, deleted), and sends JSON or form bodies.
 */
export class TestClient {
  readonly cookies = new Map<string, string>();

  /** `headers` go with every request, e.g. a browser's `user-agent`. */
  constructor(
    readonly app: FastifyInstance,
    readonly headers: Record<string, string> = {},
  ) {}

  /** The session cookie's value, to see when the session id changes. */
  get sessionCookie(): string | undefined {
    return this.cookies.get(SESSION_COOKIE_NAME);
  }

  async request(options: InjectOptions & { json?: unknown; form?: Record<string, string> }): Promise<TestResponse> {
    const { json, form, ...inject } = options;
    const headers: Record<string, string> = { ...this.headers, ...(inject.headers as Record<string, string> | undefined) };
    if (this.cookies.size > 0 && headers.cookie === undefined) {
      headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    }
    let payload = inject.payload;
    if (json !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = JSON.stringify(json);
    } else if (form !== undefined) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(form).toString();
    }
    const response = await this.app.inject({ ...inject, headers, ...(payload === undefined ? {} : { payload }) });
    this.#keepCookies(response);
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      parsed = undefined;
    }
    return { status: response.statusCode, headers: response.headers, text: response.body, json: parsed };
  }

  get(url: string): Promise<TestResponse> {
    return this.request({ method: 'GET', url });
  }

  /** Posts to the JSON API: always `Content-Type: application/json`, as it requires, with `json` as the body if given. */
  post(url: string, json?: unknown): Promise<TestResponse> {
    if (json === undefined) return this.request({ method: 'POST', url, headers: { 'content-type': 'application/json' } });
    return this.request({ method: 'POST', url, json });
  }

  /** Posts an HTML form, with the CSRF token (and the one-time form id, if any) read from `page` unless `fields` has them. */
  postForm(url: string, fields: Record<string, string>, page?: TestResponse): Promise<TestResponse> {
    const csrf = page ? readCsrfToken(page.text) : undefined;
    const formId = page && /name="formId"/.test(page.text) ? readFormId(page.text) : undefined;
    const twin = page && /name="twin"/.test(page.text) ? readTwinKey(page.text) : undefined;
    return this.request({ method: 'POST', url, form: { ...(csrf ? { _csrf: csrf } : {}), ...(formId ? { formId } : {}), ...(twin ? { twin } : {}), ...fields } });
  }

  /**
   * Submits a form as a browser does: the post, then the GET its 303 leads to
   * (as Post/Redirect/Get pages answer). `page` is where the form was.
   */
  async submitForm(url: string, fields: Record<string, string>, page?: TestResponse): Promise<{ post: TestResponse; page: TestResponse }> {
    const post = await this.postForm(url, fields, page);
    if (post.status !== 303) return { post, page: post };
    return { post, page: await this.get(String(post.headers.location)) };
  }

  #keepCookies(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies as Array<{ name: string; value: string; expires?: Date; maxAge?: number }>) {
      const expired = (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now()) || cookie.maxAge === 0;
      if (expired || cookie.value === '') this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
  }
}

/** The one-time form id of the first form on a page that has one. */
export function readFormId(page: string): string {
  const match = /name="formId" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('no form id on the page');
  return match[1]!;
}

/** The twin key of the code page's form (what lets a double tap on Verify follow its twin). */
export function readTwinKey(page: string): string {
  const match = /name="twin" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('no twin key on the page');
  return match[1]!;
}

/** The CSRF token of the first form on a page. */
export function readCsrfToken(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1]!;
}

/**
 * An authenticator app: hands out codes the server has not seen yet. The
 * server accepts one step either side of now and each step once, so up to
 * three codes are ready at once; after that this waits for the clock.
 */
export class TotpDevice {
  #lastStep = -Infinity;

  constructor(readonly secret: string) {}

  async nextCode(): Promise<string> {
    const periodMs = TOTP_PERIOD_SECONDS * 1000;
    for (;;) {
      const now = Date.now();
      const nowStep = Math.floor(now / periodMs);
      let step = Math.max(this.#lastStep + 1, nowStep - 1);
      // Near the end of a step the previous one may fall out of the window before the server looks.
      if (step === nowStep - 1 && now % periodMs > periodMs - 3000) step = nowStep;
      if (step <= nowStep + 1) {
        this.#lastStep = step;
        return generateTotpCode(this.secret, new Date(step * periodMs));
      }
      await new Promise((resolve) => setTimeout(resolve, periodMs - (now % periodMs) + 50));
    }
  }

  /** A well-formed code that no step near now accepts. */
  async wrongCode(): Promise<string> {
    const periodMs = TOTP_PERIOD_SECONDS * 1000;
    const nowStep = Math.floor(Date.now() / periodMs);
    const valid = new Set<string>();
    for (let step = nowStep - 2; step <= nowStep + 2; step++) valid.add(await generateTotpCode(this.secret, new Date(step * periodMs)));
    for (let candidate = 0; ; candidate++) {
      const code = String(candidate).padStart(6, '0');
      if (!valid.has(code)) return code;
    }
  }
}

/** A username no other test uses. */
export function uniqueUsername(prefix = 'user'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Registers through the API; returns the username. */
export async function registerUser(client: TestClient, username = uniqueUsername(), password = TEST_PASSWORD): Promise<string> {
  const response = await client.post('/api/register', { username, password });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${response.text}`);
  return username;
}

/** Registers, which signs in (MFA is off for a new user): one sign-in, one `signed_in` event. */
export async function registerAndLogIn(client: TestClient, username = uniqueUsername()): Promise<string> {
  const response = await client.post('/api/register', { username, password: TEST_PASSWORD });
  if (response.status !== 201 || response.json.authenticated !== true) throw new Error(`register failed: ${response.status} ${response.text}`);
  return username;
}

export interface EnabledMfa {
  device: TotpDevice;
  secret: string;
  backupCodes: string[];
}

/** Turns MFA on for the logged-in user of `client`, through the API. */
export async function enableMfa(client: TestClient): Promise<EnabledMfa> {
  const setup = await client.post('/api/mfa/setup', {});
  if (setup.status !== 200) throw new Error(`setup failed: ${setup.status} ${setup.text}`);
  const device = new TotpDevice(setup.json.secret);
  const confirm = await client.post('/api/mfa/confirm', { token: await device.nextCode() });
  if (confirm.status !== 200) throw new Error(`confirm failed: ${confirm.status} ${confirm.text}`);
  return { device, secret: setup.json.secret, backupCodes: confirm.json.backupCodes };
}

/** A user with MFA on, logged out again: the start of every second-factor test. */
export async function createMfaUser(app: FastifyInstance): Promise<EnabledMfa & { username: string }> {
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  const mfa = await enableMfa(client);
  await client.post('/api/logout');
  return { username, ...mfa };
}

/** A new client that has passed the password step and now owes the second factor. */
export async function pendingClient(app: FastifyInstance, username: string, headers: Record<string, string> = {}): Promise<TestClient> {
  const client = new TestClient(app, headers);
  const response = await client.post('/api/login', { username, password: TEST_PASSWORD });
  if (response.status !== 200 || !response.json.mfaRequired) throw new Error(`password step failed: ${response.status} ${response.text}`);
  return client;
}
