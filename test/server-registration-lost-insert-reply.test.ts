// A database outage mid-registration: the insert of the new user reaches MongoDB but its reply is lost
// (a connection reset). Were that a 503 saying "Nothing was changed; please try again", the person doing
// as told would be refused with "That username is taken" and leave believing their name is someone
// else's. The insert is sent again, and the retry that meets its own first try's document is the
// registration (found by an outside attack on the change).
import t from 'tap';
import { TEST_PASSWORD, TestClient, startTestApp, uniqueUsername } from './helpers/server.js';
import { openDatabaseBehindAProxy } from './helpers/tcp-proxy.js';

t.test('the lost reply of the user insert: doing as the 503 says does not end in "that username is taken"', async (t) => {
  const { proxy, db: proxied } = await openDatabaseBehindAProxy(t);
  const { app, db } = await startTestApp(t, { db: proxied });
  const browser = new TestClient(app);
  const username = uniqueUsername('newcomer');

  // Registration's first command naming the users collection is the insert.
  const lost = proxy.loseReplyTo('users');
  const first = await browser.post('/api/register', { username, password: TEST_PASSWORD });
  await lost;
  t.equal(await db.collection('users').countDocuments({ username }), 1, '(the user was created)');
  t.comment(`first answer: ${first.status} ${first.text}`);

  if (first.status === 503) {
    t.notMatch(first.json.error, /Nothing was changed/, 'a 503 does not say nothing was changed when the user may exist');
    const retry = await browser.post('/api/register', { username, password: TEST_PASSWORD });
    t.comment(`retry: ${retry.status} ${retry.text}`);
    t.notMatch(String(retry.json?.error), /taken; choose another/, 'the retry the 503 asked for does not tell the person to choose another name');
  } else {
    t.equal(first.status, 201, 'or the first answer is the registration');
  }
});
