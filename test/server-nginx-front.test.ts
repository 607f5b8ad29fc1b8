// docs/proxy.md's nginx block, run for real: nginx on a free port in front of a demo process with
// TRUST_PROXY=1, and a client that forges the first hop of X-Forwarded-For. Skipped when nginx is not
// installed (`apt-get install nginx`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openTestDatabase } from './helpers/database.js';
import { localRequest } from './helpers/local-http.js';
import { mongodbUriOf, startServerProcess } from './helpers/server-process.js';
import { TEST_PASSWORD, uniqueUsername } from './helpers/server.js';

const NGINX = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
const START_TIMEOUT_MS = 10_000;

/** The ```nginx block of docs/proxy.md, with its ports replaced. */
async function documentedNginxBlock(listenPort: number, demoPort: number): Promise<string> {
  const doc = await readFile(new URL('../docs/proxy.md', import.meta.url), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('no nginx block in docs/proxy.md');
  if (!block.includes('listen 127.0.0.1:8080;') || !block.includes('proxy_pass http://127.0.0.1:3000;')) throw new Error('the block no longer has the ports this test replaces');
  return block.replace('listen 127.0.0.1:8080;', `listen 127.0.0.1:${listenPort};`).replace('proxy_pass http://127.0.0.1:3000;', `proxy_pass http://127.0.0.1:${demoPort};`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, nginx: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end(() => resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen within ${START_TIMEOUT_MS} ms: ${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

t.test('through nginx with TRUST_PROXY=1, a forged first hop neither escapes the per-address limit nor reaches the activity', { skip: NGINX ? false : 'nginx is not installed: apt-get install nginx to run this test' }, async (t) => {
  const { db } = await openTestDatabase(t);
  const dir = await mkdtemp(path.join(tmpdir(), 'nginx-front-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const demo = await startServerProcess({
    MONGODB_URI: mongodbUriOf(db.databaseName),
    DEMO_DATA_DIR: path.join(dir, 'data'),
    HOST: '127.0.0.1',
    PORT: '0',
    TRUST_PROXY: '1',
    RATE_LIMIT_MAX: '3',
  });
  t.teardown(() => demo.stop());

  const port = await freePort();
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
      ${await documentedNginxBlock(port, Number(new URL(demo.url).port))}
    }`;
  await writeFile(path.join(dir, 'nginx.conf'), config);
  let nginxOutput = '';
  const nginx = spawn(NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  nginx.stdout!.on('data', (chunk) => (nginxOutput += chunk));
  nginx.stderr!.on('data', (chunk) => (nginxOutput += chunk));
  const exited = new Promise((resolve) => nginx.once('exit', resolve));
  t.teardown(async () => {
    if (nginx.exitCode === null) nginx.kill('SIGQUIT');
    await exited;
  });
  await waitForPort(port, nginx, () => nginxOutput);
  const front = `http://127.0.0.1:${port}`;

  const statuses = [];
  for (let i = 0; i < 5; i++) {
    const response = await localRequest(front, {
      path: '/api/login',
      localAddress: '127.0.0.5',
      headers: { 'x-forwarded-for': `8.8.8.${i}` },
      json: { username: uniqueUsername('nobody'), password: 'a wrong password' },
    });
    statuses.push(response.status);
  }
  t.same(statuses, [401, 401, 401, 429, 429], 'the fourth request from 127.0.0.5 is refused, whatever it claimed to be');

  const username = uniqueUsername();
  t.equal((await localRequest(front, { path: '/api/register', localAddress: '127.0.0.6', json: { username, password: TEST_PASSWORD } })).status, 201);
  const cookies = new Map<string, string>();
  const forged = { 'x-forwarded-for': '8.8.8.8' };
  const login = await localRequest(front, { path: '/api/login', localAddress: '127.0.0.7', headers: forged, cookies, json: { username, password: TEST_PASSWORD } });
  t.equal(login.status, 200);
  const activity = await localRequest(front, { path: '/api/me/activity', localAddress: '127.0.0.7', headers: forged, cookies });
  t.match(activity.json.events, [{ type: 'signed_in', ip: '127.0.0.7' }], 'the activity shows the address nginx saw');
  t.notMatch(JSON.stringify(activity.json), /8\.8\.8\.8/);
  t.notMatch(demo.output(), /8\.8\.8\.8"/, 'and no log line took the forged address for the client');
});
