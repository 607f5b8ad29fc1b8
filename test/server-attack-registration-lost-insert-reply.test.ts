// Attack (helper "attack", issue 15 item 1, a database outage mid-registration): the insert of the new
// user reaches MongoDB but its reply is lost (a connection reset). The answer is a 503 saying "Nothing
// was changed; please try again in a moment", yet the user exists, so the person who does as told is
// refused with "That username is taken; choose another" and leaves believing their name belongs to
// someone else. server/login/registration.ts already reasons that a 503 after the user is made must not
// end this way; the insert's lost reply is the same case one step earlier. Either the first answer or the
// retry must leave the person with their account (or be told it may exist and to sign in).
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import t from 'tap';
import { MONGODB_CLIENT_OPTIONS } from '../server/app/mongodb-client-options.js';
import { TEST_PASSWORD, TestClient, startTestApp, uniqueUsername } from './helpers/server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

t.test('the lost reply of the user insert: doing as the 503 says does not end in "that username is taken"', async (t) => {
  const proxy = await TcpProxy.start(process.env.MONGODB_URI!);
  const client = new MongoClient(proxy.uri(`test_${randomBytes(8).toString('hex')}`), MONGODB_CLIENT_OPTIONS);
  t.teardown(async () => {
    await client.close();
    await proxy.close();
  });
  await client.connect();
  const { app, db } = await startTestApp(t, { db: client.db() });
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
