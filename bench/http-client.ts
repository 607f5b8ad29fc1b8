/**
 * The benchmark's HTTP client: JSON requests over keep-alive connections to
 * 127.0.0.1, and a cookie jar per simulated browser. Plain `node:http`, so
 * the load generator spends as little CPU as it can beside the server.
 */
import http from 'node:http';

/** Longest a benchmark request may take before it counts as a failure. */
const REQUEST_TIMEOUT_MS = 60_000;

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export interface BenchResponse {
  status: number;
  /** The body parsed as JSON; `undefined` when it is empty or not JSON. */
  json: any;
  setCookies: string[];
}

/** One request; `cookie` is a ready `Cookie` header. Rejects on a network error or after REQUEST_TIMEOUT_MS. */
export function requestJson(origin: string, method: 'GET' | 'POST', path: string, body?: unknown, cookie?: string): Promise<BenchResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  // The demo's API wants this content type on every post, with or without a body.
  const headers: Record<string, string | number> = method === 'POST' ? { 'content-type': 'application/json' } : {};
  if (payload !== undefined) headers['content-length'] = Buffer.byteLength(payload);
  if (cookie) headers.cookie = cookie;
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(path, origin), { method, headers, agent }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('error', reject);
      response.on('end', () => {
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        const setCookie = response.headers['set-cookie'] ?? [];
        resolve({ status: response.statusCode ?? 0, json, setCookies: setCookie });
      });
    });
    request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', reject);
    request.end(payload);
  });
}

/** One browser: keeps the cookies it is given, and drops those it is told to. */
export class BenchBrowser {
  readonly #cookies = new Map<string, string>();

  /** The `Cookie` header this browser sends now. */
  get cookieHeader(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async post(origin: string, path: string, body?: unknown): Promise<BenchResponse> {
    return this.#keep(await requestJson(origin, 'POST', path, body, this.cookieHeader));
  }

  async get(origin: string, path: string): Promise<BenchResponse> {
    return this.#keep(await requestJson(origin, 'GET', path, undefined, this.cookieHeader));
  }

  #keep(response: BenchResponse): BenchResponse {
    for (const cookie of response.setCookies) {
      const [pair = ''] = cookie.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie) || /max-age=0/i.test(cookie)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return response;
  }
}

/** Lets the process exit: closes the idle keep-alive connections. */
export function closeIdleConnections(): void {
  agent.destroy();
}
