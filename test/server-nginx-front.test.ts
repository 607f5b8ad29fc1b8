// docs/proxy.md's nginx block, run for real: nginx on a free port in front of a demo process with
// TRUST_PROXY=1, and a client that forges the first hop of X-Forwarded-For. Skipped when nginx is not
// installed (`apt-get install nginx`).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openTestDatabase } from './helpers/database.js';
import { localRequest } from './helpers/local-http.js';
import { documentedNginxBlock, freePort, loginsWithForgedFirstHops, NEEDS_NGINX, replaceExactly, startNginx } from './helpers/nginx.js';
import { mongodbUriOf, startServerProcess } from './helpers/server-process.js';
import { TEST_PASSWORD, uniqueUsername } from './helpers/server.js';

t.test('through nginx with TRUST_PROXY=1, a forged first hop neither escapes the per-address limit nor reaches the activity', NEEDS_NGINX, async (t) => {
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
  let block = replaceExactly(await documentedNginxBlock(0), 'listen 127.0.0.1:8080;', `listen 127.0.0.1:${port};`);
  block = replaceExactly(block, 'proxy_pass http://127.0.0.1:3000;', `proxy_pass http://127.0.0.1:${new URL(demo.url).port};`);
  await startNginx(t, block, port);
  const front = `http://127.0.0.1:${port}`;

  const statuses = await loginsWithForgedFirstHops(front, 5);
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
