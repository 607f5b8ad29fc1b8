/**
 * Plain HTTP/1.1 requests to a listening server from a chosen local address
 * (127.0.0.2, 127.0.0.3, ...: all loopback on Linux), one connection each, so
 * a test can be a dozen clients at once. `fetch` cannot pick its source address.
 */
import http from 'node:http';
import { keepSetCookies } from './fetch-client.js';

export interface LocalResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface LocalRequest {
  method?: string;
  path: string;
  /** The source address of the connection. Default: the OS's choice (127.0.0.1). */
  localAddress?: string;
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  /** Sent as `Cookie`, and updated from the answer's `Set-Cookie`. */
  cookies?: Map<string, string>;
}

/** Sends one request to `baseUrl` and reads the whole answer. */
export function localRequest(baseUrl: string, request: LocalRequest): Promise<LocalResponse> {
  const url = new URL(request.path, baseUrl);
  const headers: Record<string, string> = { ...request.headers };
  let body: string | undefined;
  if (request.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(request.json);
  } else if (request.form !== undefined) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    body = new URLSearchParams(request.form).toString();
  }
  if (request.cookies && request.cookies.size > 0) headers.cookie = [...request.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      url,
      { method: request.method ?? (body === undefined ? 'GET' : 'POST'), headers, agent: false, ...(request.localAddress ? { localAddress: request.localAddress } : {}) },
      (incoming) => {
        let text = '';
        incoming.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          if (request.cookies) keepSetCookies(request.cookies, { headers: { getSetCookie: () => incoming.headers['set-cookie'] ?? [] } } as unknown as Response);
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text, json });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** `127.0.0.2` to `127.0.0.{count + 1}`: as many client addresses as asked, none of them the server's own. */
export function clientAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `127.0.0.${index + 2}`);
}
