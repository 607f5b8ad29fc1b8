/**
 * What `npm run bench:http` prepares before the clock starts: users with MFA
 * on, each with its authenticator secret and backup codes, and pending
 * sessions (the password step done) waiting for their second factor. For the
 * demo everything goes through its JSON API; the tutorial reference gets its
 * user documents written directly, then its password steps over HTTP.
 */
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import type { Db } from 'mongodb';
import { generateSecret } from 'otplib';
import { generateTotpCode, TOTP_PERIOD_SECONDS } from '../lib/index.js';
import { BenchBrowser } from './http-client.js';
import type { PreparedRequest } from './http-load.js';
import type { TutorialUser } from './tutorial-reference.js';

const PASSWORD = 'correct horse battery staple';
const BACKUP_CODES_PER_USER = 10;
/** Concurrency of the preparation (not measured). */
const PREPARATION_CONCURRENCY = 20;

/** A user with MFA on, and the pending sessions prepared for it, used in order. */
export interface BenchUser {
  username: string;
  secret: string;
  /** The last TOTP time step the server saw from this user. */
  lastStep: number;
  backupCodes: string[];
  /** `Cookie` headers of pending sessions, each used by one second-factor request. */
  pendingSessions: string[];
}

/** The users of one target, by what they are for. */
export interface Fixture {
  /** `totpRounds` TOTP logins and as many wrong TOTP codes each, and (the first `wrongBackupLogins`) one wrong backup code. */
  totpUsers: BenchUser[];
  /** A TOTP login and a wrong code each, before anything is measured. */
  warmUpUsers: BenchUser[];
  /** Backup codes at the real bcrypt cost, several logins each. */
  backupUsers: BenchUser[];
}

export interface FixtureSizes {
  totpUsers: number;
  /** TOTP logins per TOTP user and phase: 1 or 2, as many as the window has fresh steps for. */
  totpRounds: 1 | 2;
  warmUpUsers: number;
  backupUsers: number;
  /** Backup-code logins per backup user. */
  backupRounds: number;
  /** Wrong backup codes, sent from as many TOTP users. */
  wrongBackupLogins: number;
}

function timeStepNow(): number {
  return Math.floor(Date.now() / 1000 / TOTP_PERIOD_SECONDS);
}

/** Time left in the current step below which a confirmation uses the current step rather than the one before. */
const CONFIRMATION_MARGIN_MS = 5_000;

/**
 * The code that turns MFA on: the previous step's, which the server still
 * accepts, so that the current and the next step stay free for the logins
 * measured later; near the end of a step the current one, which cannot fall
 * out of the window before the server looks.
 */
export async function confirmationCode(user: BenchUser): Promise<string> {
  user.lastStep = confirmationStep();
  return generateTotpCode(user.secret, new Date(user.lastStep * TOTP_PERIOD_SECONDS * 1000));
}

function confirmationStep(): number {
  const periodMs = TOTP_PERIOD_SECONDS * 1000;
  return timeStepNow() - (periodMs - (Date.now() % periodMs) > CONFIRMATION_MARGIN_MS ? 1 : 0);
}

/**
 * `count` (1 or 2) codes the server accepts now and has not seen from this
 * user, to be sent in order: the current step's and the next one's (the
 * window takes one step either side), or the next one's alone. Each stays
 * good for 30 s at least. When the current step is already used, this waits
 * for the next one.
 */
export async function freshTotpCodes(user: BenchUser, count: 1 | 2): Promise<string[]> {
  const periodMs = TOTP_PERIOD_SECONDS * 1000;
  for (;;) {
    const first = timeStepNow() + 2 - count;
    if (first > user.lastStep) {
      user.lastStep = first + count - 1;
      return Promise.all(Array.from({ length: count }, (_, i) => generateTotpCode(user.secret, new Date((first + i) * periodMs))));
    }
    await new Promise((resolve) => setTimeout(resolve, periodMs - (Date.now() % periodMs) + 100));
  }
}

/** A well-formed code no step near now accepts. */
export async function wrongTotpCode(user: BenchUser): Promise<string> {
  const now = timeStepNow();
  const valid = new Set<string>();
  for (let step = now - 2; step <= now + 2; step++) valid.add(await generateTotpCode(user.secret, new Date(step * TOTP_PERIOD_SECONDS * 1000)));
  for (let candidate = 0; ; candidate++) {
    const code = String(candidate).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}

/**
 * The backup code of a user's `round`th backup login: spread over the set
 * (a step of 7 visits all ten), so that a loop over the stored hashes finds
 * it, on average, halfway.
 */
export function backupCodeFor(user: BenchUser, userIndex: number, round: number): string {
  return user.backupCodes[(userIndex * 3 + round * 7) % user.backupCodes.length]!;
}

/** The next prepared session of `user` with `token`. */
export function nextRequest(user: BenchUser, token: string): PreparedRequest {
  const cookie = user.pendingSessions.shift();
  if (cookie === undefined) throw new Error(`no pending session left for ${user.username}`);
  return { cookie, token };
}

/** Runs `work` on every item, `concurrency` at a time, in order of start. */
async function inParallel<T, R>(items: T[], work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: PREPARATION_CONCURRENCY }, worker));
  return results;
}

function expectStatus(step: string, response: { status: number; json: unknown }, status: number): void {
  if (response.status !== status) throw new Error(`${step}: ${response.status} ${JSON.stringify(response.json)}`);
}

async function passwordStep(origin: string, username: string): Promise<string> {
  const browser = new BenchBrowser();
  const response = await browser.post(origin, '/api/login', { username, password: PASSWORD });
  expectStatus('password step', response, 200);
  if (!response.json?.mfaRequired) throw new Error(`password step: MFA not required for ${username}`);
  return browser.cookieHeader;
}

function usernames(prefix: string, count: number): string[] {
  const run = randomBytes(3).toString('hex');
  return Array.from({ length: count }, (_, index) => `${prefix}-${run}-${index}`);
}

/**
 * A demo user through the JSON API: registered and logged in on `setupOrigin`
 * (bcrypt cost 4), MFA turned on on `enrolOrigin` (whose bcrypt cost the
 * backup codes get), logged out, then `pendingCount` password steps.
 */
async function enrolDemoUser(setupOrigin: string, enrolOrigin: string, username: string, pendingCount: number): Promise<BenchUser> {
  const browser = new BenchBrowser();
  expectStatus('register', await browser.post(setupOrigin, '/api/register', { username, password: PASSWORD }), 201);
  expectStatus('login', await browser.post(setupOrigin, '/api/login', { username, password: PASSWORD }), 200);
  const setup = await browser.post(enrolOrigin, '/api/mfa/setup', {});
  expectStatus('MFA setup', setup, 200);
  const user: BenchUser = { username, secret: setup.json.secret, lastStep: -Infinity, backupCodes: [], pendingSessions: [] };
  const confirm = await browser.post(enrolOrigin, '/api/mfa/confirm', { token: await confirmationCode(user) });
  expectStatus('MFA confirm', confirm, 200);
  user.backupCodes = confirm.json.backupCodes;
  expectStatus('logout', await browser.post(setupOrigin, '/api/logout'), 204);
  for (let i = 0; i < pendingCount; i++) user.pendingSessions.push(await passwordStep(setupOrigin, username));
  return user;
}

/**
 * The demo's users. TOTP users turn MFA on through the bcrypt-cost-4 app
 * (their backup codes are never checked, and ten hashes at cost 10 each
 * would make the preparation the longest part of the run); backup users
 * through the measured app, so their codes have the real cost.
 */
export async function prepareDemo(origin: string, setupOrigin: string, sizes: FixtureSizes): Promise<Fixture> {
  const totpPending = (index: number) => 2 * sizes.totpRounds + (index < sizes.wrongBackupLogins ? 1 : 0);
  return {
    totpUsers: await inParallel(usernames('totp', sizes.totpUsers), (name, index) => enrolDemoUser(setupOrigin, setupOrigin, name, totpPending(index))),
    warmUpUsers: await inParallel(usernames('warm', sizes.warmUpUsers), (name) => enrolDemoUser(setupOrigin, setupOrigin, name, 2)),
    backupUsers: await inParallel(usernames('backup', sizes.backupUsers), (name) => enrolDemoUser(setupOrigin, origin, name, sizes.backupRounds)),
  };
}

/** Hashes shared by every reference user: the same work per check, made once. */
interface ReferenceHashes {
  passwordHash: string;
  backupCodes: string[];
  backupCodeHashes: string[];
}

async function referenceHashes(): Promise<ReferenceHashes> {
  const backupCodes = Array.from({ length: BACKUP_CODES_PER_USER }, () => randomBytes(5).toString('hex'));
  return {
    // Cost 4 like the demo's prepared passwords: the password step is not what is measured.
    passwordHash: await bcrypt.hash(PASSWORD, 4),
    backupCodes,
    // Cost 10, the demo's default for backup codes.
    backupCodeHashes: await Promise.all(backupCodes.map((code) => bcrypt.hash(code, 10))),
  };
}

/** The reference's users: documents written into `db`, then password steps on `origin`. */
export async function prepareReference(db: Db, origin: string, sizes: FixtureSizes): Promise<Fixture> {
  const hashes = await referenceHashes();
  const users = db.collection<TutorialUser>('users');
  const make = async (names: string[], pendingCount: (index: number) => number): Promise<BenchUser[]> => {
    const made = names.map((username): BenchUser => ({
      username,
      secret: generateSecret(),
      // As if MFA had just been turned on, as the demo's users are.
      lastStep: confirmationStep(),
      backupCodes: hashes.backupCodes,
      pendingSessions: [],
    }));
    await users.insertMany(
      made.map((user) => ({
        _id: user.username,
        passwordHash: hashes.passwordHash,
        totpSecret: user.secret,
        lastTotpStep: user.lastStep,
        backupCodeHashes: hashes.backupCodeHashes,
      })),
    );
    await inParallel(made, async (user, index) => {
      for (let i = 0; i < pendingCount(index); i++) user.pendingSessions.push(await passwordStep(origin, user.username));
    });
    return made;
  };
  return {
    totpUsers: await make(usernames('totp', sizes.totpUsers), (index) => 2 * sizes.totpRounds + (index < sizes.wrongBackupLogins ? 1 : 0)),
    warmUpUsers: await make(usernames('warm', sizes.warmUpUsers), () => 2),
    backupUsers: await make(usernames('backup', sizes.backupUsers), () => sizes.backupRounds),
  };
}
