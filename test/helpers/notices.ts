/** Reading the security notices off an account page, and signing in as the tests of notices need. */
import type { FastifyInstance } from 'fastify';
import { pendingClient, TEST_PASSWORD, TestClient, type EnabledMfa } from './server.js';

export const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
export const CURL = 'curl/8.5.0';

/** The warnings on an account page: their type, id and text. */
export function warnings(page: string): Array<{ type: string; id: string; text: string }> {
  return [...page.matchAll(/<p class="warning" role="alert" data-notice-type="([^"]+)" data-notice-id="([^"]+)">([\s\S]*?)<\/p>/g)].map((match) => ({
    type: match[1]!,
    id: match[2]!,
    text: match[3]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' '),
  }));
}

/** What the page tells the session that caused a notice, in text; `null` when it says nothing. */
export function ownNotices(page: string): string | null {
  const block = /<div class="hint" id="own-notices">([\s\S]*?)<\/div>/.exec(page)?.[1];
  return block === undefined ? null : block.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
}

/** A new browser signed in with a code from the authenticator app. */
export async function signInWithApp(app: FastifyInstance, username: string, mfa: EnabledMfa, headers: Record<string, string> = {}): Promise<TestClient> {
  const client = await pendingClient(app, username, headers);
  const response = await client.post('/api/login/mfa', { token: await mfa.device.nextCode() });
  if (response.status !== 200) throw new Error(`sign-in with the app failed: ${response.status} ${response.text}`);
  return client;
}

/** A new browser (or `client`, keeping its cookies) signed in with a backup code, optionally remembered. */
export async function signInWithBackupCode(
  app: FastifyInstance,
  username: string,
  code: string,
  options: { rememberBrowser?: boolean; headers?: Record<string, string> } = {},
): Promise<TestClient> {
  const client = await pendingClient(app, username, options.headers);
  const response = await client.post('/api/login/mfa', { token: code, ...(options.rememberBrowser ? { rememberBrowser: true } : {}) });
  if (response.status !== 200) throw new Error(`sign-in with a backup code failed: ${response.status} ${response.text}`);
  return client;
}

/** Signs `client` out and in again with the password alone: its remembered browser skips the code. */
export async function signInAgainOnRememberedBrowser(client: TestClient, username: string): Promise<void> {
  await client.post('/api/logout');
  const response = await client.post('/api/login', { username, password: TEST_PASSWORD });
  if (response.status !== 200 || !response.json.authenticated) throw new Error(`the remembered browser was asked for a code: ${response.text}`);
}
