/**
 * The yardstick of `npm run bench:http`: the second factor as tutorials write
 * it. A minimal Fastify app with sessions in MongoDB (a store shaped like
 * connect-mongo's: find, upsert, delete), the TOTP secret in the user
 * document, a TOTP code checked with a read-modify-write of that document,
 * and a backup code checked by bcrypt against every stored hash in turn.
 *
 * It has the tutorials' flaws on purpose (the read-modify-write lets two
 * requests use one code; a wrong backup code costs a bcrypt comparison per
 * stored hash): it is here to be measured against, never to be copied.
 */
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import bcrypt from 'bcrypt';
import Fastify, { type FastifyInstance, type Session } from 'fastify';
import type { Collection, Db } from 'mongodb';
import { verify } from 'otplib';

/** A user as tutorials keep one: everything in a single document. */
export interface TutorialUser {
  _id: string;
  passwordHash: string;
  /** base32, in the clear, as tutorials store it. */
  totpSecret: string;
  /** The last TOTP time step used, so a code is not taken twice (checked in the app, not in the write). */
  lastTotpStep: number;
  backupCodeHashes: string[];
}

interface SessionDocument {
  _id: string;
  session: string;
  expiresAt: Date;
}

type Callback = (error?: unknown) => void;

/** A session store as tutorials use one (connect-mongo's shape). */
class TutorialSessionStore {
  constructor(private readonly collection: Collection<SessionDocument>) {}

  get(sessionId: string, callback: (error: unknown, session?: Session | null) => void): void {
    this.collection.findOne({ _id: sessionId }).then(
      (document) => callback(null, document && document.expiresAt > new Date() ? (JSON.parse(document.session) as Session) : null),
      callback,
    );
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    const expiresAt = session.cookie?.expires instanceof Date ? session.cookie.expires : new Date(Date.now() + 8 * 60 * 60 * 1000);
    this.collection
      .updateOne({ _id: sessionId }, { $set: { session: JSON.stringify(session), expiresAt } }, { upsert: true })
      .then(() => callback(), callback);
  }

  destroy(sessionId: string, callback: Callback): void {
    this.collection.deleteOne({ _id: sessionId }).then(() => callback(), callback);
  }
}

declare module 'fastify' {
  interface Session {
    referencePendingUserId?: string;
    referenceUserId?: string;
  }
}

/** The reference app on `db` (collections `users` and `sessions`), not yet listening. */
export async function buildTutorialReference(db: Db, sessionSecret: string): Promise<FastifyInstance> {
  const users = db.collection<TutorialUser>('users');
  const app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: sessionSecret,
    store: new TutorialSessionStore(db.collection<SessionDocument>('sessions')),
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: false, maxAge: 8 * 60 * 60 * 1000 },
    saveUninitialized: false,
  });

  app.post<{ Body: { username: string; password: string } }>('/api/login', async (request, reply) => {
    const user = await users.findOne({ _id: String(request.body.username) });
    if (!user || !(await bcrypt.compare(String(request.body.password), user.passwordHash))) {
      return reply.code(401).send({ error: 'Wrong username or password' });
    }
    await request.session.regenerate();
    request.session.set('referencePendingUserId', user._id);
    return { authenticated: false, mfaRequired: true };
  });

  app.post<{ Body: { token: string } }>('/api/login/mfa', async (request, reply) => {
    const userId = request.session.get('referencePendingUserId');
    const token = String(request.body?.token ?? '');
    const user = userId ? await users.findOne({ _id: userId }) : null;
    if (!user) return reply.code(401).send({ error: 'Log in with your password first' });

    let method: 'totp' | 'backup_code' | null = null;
    if (/^\d{6}$/.test(token)) {
      const result = await verify({ secret: user.totpSecret, token, epochTolerance: 30 });
      if (result.valid && 'timeStep' in result && result.timeStep > user.lastTotpStep) {
        await users.updateOne({ _id: user._id }, { $set: { lastTotpStep: result.timeStep } });
        method = 'totp';
      }
    } else {
      for (const [index, hash] of user.backupCodeHashes.entries()) {
        if (!(await bcrypt.compare(token, hash))) continue;
        const remaining = user.backupCodeHashes.filter((_, other) => other !== index);
        await users.updateOne({ _id: user._id }, { $set: { backupCodeHashes: remaining } });
        method = 'backup_code';
        break;
      }
    }
    if (method === null) return reply.code(401).send({ error: 'Invalid code' });
    await request.session.regenerate();
    request.session.set('referenceUserId', user._id);
    return { authenticated: true, method };
  });
  return app;
}
