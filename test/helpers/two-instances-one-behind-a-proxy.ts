/**
 * Two demo instances on one database, with shared secrets, as a fleet runs: the
 * attacker's reaches MongoDB through a TCP proxy (test/helpers/tcp-proxy.ts)
 * that can hold a reply, the owner's directly. So a test can make the owner's
 * request land inside a chosen moment of the attacker's.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { MongoClient } from 'mongodb';
import type { Test } from 'tap';
import { MONGODB_CLIENT_OPTIONS } from '../../server/app/mongodb-client-options.js';
import { startTestApp } from './server.js';
import { TcpProxy } from './tcp-proxy.js';

export async function twoInstancesOneBehindAProxy(t: Test): Promise<{ proxy: TcpProxy; attackers: FastifyInstance; owners: FastifyInstance }> {
  const name = `test_${randomBytes(8).toString('hex')}`;
  const proxy = await TcpProxy.start(process.env.MONGODB_URI!);
  const viaProxy = new MongoClient(proxy.uri(name), MONGODB_CLIENT_OPTIONS);
  const direct = new MongoClient(process.env.MONGODB_URI!, MONGODB_CLIENT_OPTIONS);
  t.teardown(async () => {
    await direct.db(name).dropDatabase();
    await viaProxy.close();
    await direct.close();
    await proxy.close();
  });
  await Promise.all([viaProxy.connect(), direct.connect()]);
  const shared = { sessionSecret: randomBytes(32).toString('base64'), mfaEncryptionKey: randomBytes(32) };
  const attackers = await startTestApp(t, { db: viaProxy.db(name), config: shared });
  const owners = await startTestApp(t, { db: direct.db(name), config: shared });
  return { proxy, attackers: attackers.app, owners: owners.app };
}
