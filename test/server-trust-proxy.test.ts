// TRUST_PROXY as a count of proxies: behind one proxy that appends to X-Forwarded-For (nginx's
// $proxy_add_x_forwarded_for), a first hop the client wrote itself changes nothing: the per-address
// limit counts the address the proxy saw, and the security activity shows it. The proxy here is the
// test itself (the connection comes from 127.0.0.1, and adds the last hop as nginx would);
// test/server-nginx-front.test.ts does the same through a real nginx.
import t from 'tap';
import { registerUser, startTestApp, TEST_PASSWORD, TestClient, uniqueUsername } from './helpers/server.js';

/** What nginx sends on when the client at `client` itself wrote `forged`. */
const behindProxy = (forged: string, client: string) => ({ 'x-forwarded-for': `${forged}, ${client}` });

t.test('TRUST_PROXY=1 and a forged first hop: the per-address limit still counts the real client', async (t) => {
  const { app } = await startTestApp(t, { config: { trustProxy: 1, rateLimitMax: 3 } });
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    // A new forged address and a new name each time: only the address limit can refuse.
    const response = await new TestClient(app).request({
      method: 'POST',
      url: '/api/login',
      headers: behindProxy(`8.8.8.${i}`, '127.0.0.5'),
      json: { username: uniqueUsername('nobody'), password: 'wrong password' },
    });
    statuses.push(response.status);
  }
  t.same(statuses, [401, 401, 401, 429, 429, 429], 'the fourth request from 127.0.0.5 in a minute is refused, whatever it wrote first');
  const other = await new TestClient(app).request({
    method: 'POST',
    url: '/api/login',
    headers: behindProxy('127.0.0.5', '127.0.0.6'),
    json: { username: uniqueUsername('nobody'), password: 'wrong password' },
  });
  t.equal(other.status, 401, 'and naming that address first does not spend its limit for another client');
});

t.test('TRUST_PROXY=1 and a forged first hop: the activity records the address the proxy saw, never 8.8.8.8', async (t) => {
  const { app } = await startTestApp(t, { config: { trustProxy: 1 } });
  const username = await registerUser(new TestClient(app));
  const client = new TestClient(app, behindProxy('8.8.8.8', '127.0.0.5'));
  t.equal((await client.post('/api/login', { username, password: TEST_PASSWORD })).status, 200);
  const { events } = (await client.get('/api/me/activity')).json;
  t.match(events, [{ type: 'signed_in', ip: '127.0.0.5' }]);
  t.notMatch(JSON.stringify(events), /8\.8\.8\.8/);
});

t.test('TRUST_PROXY as a list: only hops added by those addresses are believed', async (t) => {
  const { app } = await startTestApp(t, { config: { trustProxy: ['127.0.0.1', '10.0.0.0/8'] } });
  const username = await registerUser(new TestClient(app));
  // The client (127.0.0.5) -> a proxy at 10.1.2.3 -> the proxy at 127.0.0.1 that connects to the demo.
  const client = new TestClient(app, { 'x-forwarded-for': '8.8.8.8, 127.0.0.5, 10.1.2.3' });
  t.equal((await client.post('/api/login', { username, password: TEST_PASSWORD })).status, 200);
  t.match((await client.get('/api/me/activity')).json.events, [{ type: 'signed_in', ip: '127.0.0.5' }]);
  const direct = new TestClient(app, { 'x-forwarded-for': '8.8.8.8' });
  t.equal((await direct.request({ method: 'POST', url: '/api/login', remoteAddress: '192.0.2.7', json: { username, password: TEST_PASSWORD } })).status, 200);
  t.match((await direct.request({ method: 'GET', url: '/api/me/activity', remoteAddress: '192.0.2.7' })).json.events[0], { ip: '192.0.2.7' }, 'a peer not on the list is the client itself');
});
