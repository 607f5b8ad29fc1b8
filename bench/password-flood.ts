/**
 * `npm run bench:password`: how an honest sign-in fares while a dozen
 * addresses flood the password step, at the demo's real bcrypt cost (12).
 * Two floods, each of 480 guesses from 127.0.0.2 to 127.0.0.13 (40 each), all
 * in flight at once: one on a single account (the per-username throttle
 * decides), one spread over 480 names (the per-process bound on bcrypt work
 * decides). Prints the honest login's latency idle and during each flood, and
 * how many guesses reached bcrypt. See docs/benchmark.md.
 *
 *   MONGODB_URI   a MongoDB to use instead of the embedded mongo-java-server
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedMongoDB } from '../server/app/embedded-mongodb.js';
import { clientAddresses, localRequest } from '../test/helpers/local-http.js';
import { startServerProcess } from '../test/helpers/server-process.js';

const PASSWORD = 'correct horse battery staple';
const ADDRESSES = clientAddresses(12);
const GUESSES_PER_ADDRESS = 40;

function countLines(output: string, message: string): number {
  return output.split('\n').filter((line) => line.includes(`"msg":"${message}"`)).length;
}

async function main(): Promise<void> {
  const embedded = process.env.MONGODB_URI ? null : await startEmbeddedMongoDB();
  const uri = new URL(process.env.MONGODB_URI ?? embedded!.uri);
  uri.pathname = `/bench_password_${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-password-'));
  // The demo as `npm start` runs it, in a process of its own: bcrypt cost 12, the default limits.
  const server = await startServerProcess({ MONGODB_URI: uri.href, DEMO_DATA_DIR: dataDir, PORT: '0', RATE_LIMIT_MAX: '1000000', LOG_LEVEL: 'info' });
  const baseUrl = server.url;
  try {
    const register = (username: string) => localRequest(baseUrl, { path: '/api/register', json: { username, password: PASSWORD } });
    await register('victim');
    await register('bystander');
    const honestLogin = async () => {
      const started = performance.now();
      const response = await localRequest(baseUrl, { path: '/api/login', json: { username: 'bystander', password: PASSWORD } });
      return { ms: Math.round(performance.now() - started), status: response.status };
    };
    const idle = [];
    for (let i = 0; i < 5; i++) idle.push((await honestLogin()).ms);
    process.stdout.write(`bcrypt cost 12; honest login idle: ${idle.join(', ')} ms\n`);

    for (const [round, flood] of (['one account', '480 names'] as const).entries()) {
      const checksBefore = countLines(server.output(), 'password step refused');
      const started = performance.now();
      const guesses = ADDRESSES.flatMap((localAddress, a) =>
        Array.from({ length: GUESSES_PER_ADDRESS }, (_, g) => {
          const username = flood === 'one account' ? 'victim' : `guess-${round}-${a}-${g}`;
          return localRequest(baseUrl, { path: '/api/login', localAddress, json: { username, password: `wrong ${a} ${g}` } });
        }),
      );
      // While the flood is in flight: the first honest login, then more until the flood is answered.
      const honest = [];
      let answered = false;
      const all = Promise.all(guesses).finally(() => (answered = true));
      await new Promise((resolve) => setTimeout(resolve, 200));
      do honest.push(await honestLogin());
      while (!answered && honest.length < 20);
      const statuses = new Map<number, number>();
      for (const response of await all) statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const floodMs = Math.round(performance.now() - started);
      const checks = countLines(server.output(), 'password step refused') - checksBefore;
      process.stdout.write(
        `flood on ${flood}: ${ADDRESSES.length * GUESSES_PER_ADDRESS} guesses answered in ${floodMs} ms, ${checks} reached bcrypt, ` +
          `answers ${[...statuses].map(([status, count]) => `${count}x${status}`).join(' ')}; ` +
          `honest logins meanwhile: ${honest.map(({ status, ms }) => `${status} in ${ms} ms`).join(', ')}\n`,
      );
    }
  } finally {
    await server.stop();
    await embedded?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
