// Slow requests and bounded connections (server/app/connection-limits.ts), over real sockets: a few
// hundred connections from 127.0.0.1 that send their headers and part of a body, never the rest. Those
// past the per-address bound are closed at once, the others are cut when the request timeout (short
// here) runs out, and meanwhile /healthz from 127.0.0.2 answers.
import net from 'node:net';
import t from 'tap';
import { localRequest } from './helpers/local-http.js';
import { startTestApp } from './helpers/server.js';

const SLOW_CONNECTIONS = 300;
const REQUEST_TIMEOUT_MS = 2_000;
const CONNECTIONS = { requestTimeoutMs: REQUEST_TIMEOUT_MS, headersTimeoutMs: 1_000, checkIntervalMs: 200, maxConnectionsPerAddress: 100 };

interface SlowRequest {
  /** When the server ended the connection, ms after it was opened; `null` while open. */
  endedAfterMs: number | null;
  /** What the server sent before it ended it. */
  answer: string;
  socket: net.Socket;
}

/** A connection from `localAddress` that sends a login's headers and 10 of its 100 bytes of body, then nothing. */
function slowLogin(port: number, localAddress: string): Promise<SlowRequest> {
  return new Promise((resolve, reject) => {
    const opened = Date.now();
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    const slow: SlowRequest = { endedAfterMs: null, answer: '', socket };
    socket.setEncoding('utf8').on('data', (chunk: string) => (slow.answer += chunk));
    socket.on('error', () => {});
    socket.on('close', () => (slow.endedAfterMs = Date.now() - opened));
    socket.once('connect', () => {
      socket.write('POST /api/login HTTP/1.1\r\nHost: demo\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"username"');
      resolve(slow);
    });
    socket.once('error', reject);
  });
}

const until = async (done: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return done();
};

t.test('300 slow requests from one address: 100 held until the request timeout cuts them, the rest closed at once; /healthz answers others', async (t) => {
  const { app } = await startTestApp(t, { connections: CONNECTIONS });
  const port = Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port);

  const slow = await Promise.all(Array.from({ length: SLOW_CONNECTIONS }, () => slowLogin(port, '127.0.0.1')));
  t.teardown(() => slow.forEach(({ socket }) => socket.destroy()));
  // Those past the bound are closed as soon as they connect, before the server reads a byte.
  await until(() => slow.filter((request) => request.endedAfterMs !== null).length >= SLOW_CONNECTIONS - 100, 3_000);
  const refused = slow.filter((request) => request.endedAfterMs !== null && request.endedAfterMs < REQUEST_TIMEOUT_MS);
  t.equal(refused.length, SLOW_CONNECTIONS - 100, `${refused.length} closed at once: 100 per address`);
  t.ok(refused.every((request) => request.answer === ''), 'without an answer');

  const started = Date.now();
  const health = await localRequest(`http://127.0.0.1:${port}`, { path: '/healthz', localAddress: '127.0.0.2' });
  t.equal(health.status, 200, '/healthz from 127.0.0.2 answers while 127.0.0.1 holds 100 connections');
  t.ok(Date.now() - started < 2_000, `in ${Date.now() - started} ms`);

  const held = slow.filter((request) => !refused.includes(request));
  t.ok(await until(() => held.every((request) => request.endedAfterMs !== null), REQUEST_TIMEOUT_MS + 5_000), 'every held request is cut');
  const cutAfter = held.map((request) => request.endedAfterMs!);
  t.ok(Math.min(...cutAfter) >= REQUEST_TIMEOUT_MS - 100, `not before the request timeout (first after ${Math.min(...cutAfter)} ms)`);
  t.ok(Math.max(...cutAfter) < REQUEST_TIMEOUT_MS + 4_000, `and soon after it (last after ${Math.max(...cutAfter)} ms)`);
  t.ok(held.every((request) => request.answer.startsWith('HTTP/1.1 408')), 'each with a 408');

  const again = await localRequest(`http://127.0.0.1:${port}`, { path: '/healthz', localAddress: '127.0.0.1' });
  t.equal(again.status, 200, 'and once they are gone, 127.0.0.1 is served again');
});

t.test('headers sent a byte at a time are cut by the headers timeout', async (t) => {
  const { app } = await startTestApp(t, { connections: CONNECTIONS });
  const port = Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port);
  const socket = net.connect({ port, host: '127.0.0.1' });
  t.teardown(() => socket.destroy());
  let answer = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
  socket.on('error', () => {});
  const opened = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
  const header = 'GET /healthz HTTP/1.1\r\nHost: demo\r\nX-Padding: ';
  let i = 0;
  const drip = setInterval(() => socket.writable && socket.write(header[i++ % header.length]!), 100);
  t.teardown(() => clearInterval(drip));
  const after = await closed;
  t.ok(after >= 900 && after < 4_000, `cut after ${after} ms (headers timeout 1 s)`);
  t.match(answer, /^HTTP\/1\.1 408/);
});

t.test('a trusted proxy carries many clients: its connections are not bounded per address, only per process', async (t) => {
  const { app } = await startTestApp(t, { config: { trustProxy: ['127.0.0.1'] }, connections: { ...CONNECTIONS, maxConnections: 150 } });
  const port = Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port);
  const slow = await Promise.all(Array.from({ length: 200 }, () => slowLogin(port, '127.0.0.1')));
  t.teardown(() => slow.forEach(({ socket }) => socket.destroy()));
  await until(() => slow.filter((request) => request.endedAfterMs !== null).length >= 50, 3_000);
  const open = slow.filter((request) => request.endedAfterMs === null).length;
  t.equal(open, 150, `${open} held: the bound of the process, not the 100 of an address`);
});
