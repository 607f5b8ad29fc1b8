/**
 * A request whose body a client holds back: its headers (and so its cookie)
 * reach the server now, its body only when `release` is called. What a
 * client that wants to act after a sign-out does with a slow connection.
 */
import http from 'node:http';

export interface HeldResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface HeldRequest {
  /** Sends the body and waits for the answer. */
  release(): Promise<HeldResponse>;
}

/** Opens `method url` on `origin` (http://127.0.0.1:PORT) with `headers`; the body `body` waits for `release`. */
export async function holdRequest(origin: string, method: string, url: string, headers: Record<string, string>, body: string): Promise<HeldRequest> {
  const payload = Buffer.from(body, 'utf8');
  const request = http.request(new URL(url, origin), { method, headers: { ...headers, 'content-length': String(payload.length) } });
  const answer = new Promise<HeldResponse>((resolve, reject) => {
    request.once('error', reject);
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
      });
    });
  });
  request.flushHeaders();
  // Let the server read the headers (and load the session) before anything else happens.
  await new Promise((resolve) => setTimeout(resolve, 150));
  return {
    release() {
      request.end(payload);
      return answer;
    },
  };
}
