/** A browser-like client over real HTTP: `fetch` plus a cookie jar. */

export interface FetchResponse {
  status: number;
  headers: Headers;
  json: any;
}

/** Applies a response's `Set-Cookie` headers to `jar`, as a browser does: a cleared or expired cookie is dropped. */
export function keepSetCookies(jar: Map<string, string>, response: Response): void {
  for (const cookie of response.headers.getSetCookie()) {
    const [pair = ''] = cookie.split(';');
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator).trim();
    const value = pair.slice(separator + 1).trim();
    const expired = /expires=Thu, 01 Jan 1970/i.test(cookie) || /max-age=0/i.test(cookie);
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

export class FetchClient {
  readonly cookies = new Map<string, string>();

  /** `baseUrl` may change between requests: the cookies go along, as across instances behind one load balancer. */
  async post(baseUrl: string, path: string, body?: unknown): Promise<FetchResponse> {
    return this.request(baseUrl, path, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  async get(baseUrl: string, path: string): Promise<FetchResponse> {
    return this.request(baseUrl, path, { method: 'GET' });
  }

  async request(baseUrl: string, path: string, init: { method: string; body?: string }): Promise<FetchResponse> {
    // The API wants this header on every post, with or without a body.
    const headers: Record<string, string> = init.method === 'GET' ? {} : { 'content-type': 'application/json' };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(new URL(path, baseUrl), { ...init, headers, redirect: 'manual' });
    keepSetCookies(this.cookies, response);
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, json };
  }
}
