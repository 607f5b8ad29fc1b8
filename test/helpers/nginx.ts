/**
 * A real nginx (Debian's, `apt-get install nginx`) for the proxy tests: one
 * `http` block's contents from docs/proxy.md, a temp folder for its files,
 * run in the foreground and stopped when the test ends.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { localRequest } from './local-http.js';
import { uniqueUsername } from './server.js';

/** The nginx binary, or '' when it is not installed. */
export const NGINX = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();

/**
 * The skip of a test that runs nginx: skipped, saying how to get it, where nginx is missing; but
 * never under CI, whose .ci/run installs it: there a missing nginx fails the test instead.
 */
export const NEEDS_NGINX = { skip: NGINX || process.env.CI ? false : 'nginx is not installed: apt-get install nginx to run this test' } as const;
const START_TIMEOUT_MS = 10_000;

/** The `index`th ```nginx block of docs/proxy.md (0: the first). */
export async function documentedNginxBlock(index: number): Promise<string> {
  const doc = await readFile(new URL('../../docs/proxy.md', import.meta.url), 'utf8');
  const block = [...doc.matchAll(/```nginx\n([\s\S]*?)```/g)][index]?.[1];
  if (!block) throw new Error(`no nginx block number ${index + 1} in docs/proxy.md`);
  return block;
}

/** `text` with `from` replaced by `to`; throws if `from` is not in it, so a changed document fails loudly. */
export function replaceExactly(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the nginx block no longer has "${from}"`);
  return text.replace(from, to);
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts nginx with `httpBlock` inside its `http { }`, waits until it listens on `port`, stops it when `t` ends. */
export async function startNginx(t: Test, httpBlock: string, port: number): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nginx-'));
  const config = `
    user root;
    worker_processes 1;
    pid ${dir}/nginx.pid;
    error_log ${dir}/error.log warn;
    events { worker_connections 256; }
    http {
      access_log off;
      client_body_temp_path ${dir}/body;
      proxy_temp_path ${dir}/proxy;
      fastcgi_temp_path ${dir}/fastcgi;
      uwsgi_temp_path ${dir}/uwsgi;
      scgi_temp_path ${dir}/scgi;
      ${httpBlock}
    }`;
  await writeFile(path.join(dir, 'nginx.conf'), config);
  let output = '';
  const nginx = spawn(NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  nginx.stdout!.on('data', (chunk) => (output += chunk));
  nginx.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => nginx.once('exit', resolve));
  t.teardown(async () => {
    if (nginx.exitCode === null) nginx.kill('SIGQUIT');
    await exited;
    await rm(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}: ${output}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end(() => resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen within ${START_TIMEOUT_MS} ms: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * `count` wrong-password logins through `front`, all from 127.0.0.5, each
 * claiming another first hop in `X-Forwarded-For` (8.8.8.0, 8.8.8.1, ...), as
 * a client behind nginx's `$proxy_add_x_forwarded_for` can: their statuses.
 */
export async function loginsWithForgedFirstHops(front: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await localRequest(front, {
      path: '/api/login',
      localAddress: '127.0.0.5',
      headers: { 'x-forwarded-for': `8.8.8.${i}` },
      json: { username: uniqueUsername('nobody'), password: 'a wrong password' },
    });
    statuses.push(response.status);
  }
  return statuses;
}
