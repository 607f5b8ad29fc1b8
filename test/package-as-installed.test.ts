// The package as an app gets it: packed into a tarball, installed beside the app's own MongoDB
// driver into a throwaway project, loaded by name from ESM, CommonJS and TypeScript, and each
// example app compiled under --strict and driven over real HTTP against an embedded MongoDB.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { MfaStore, generateTotpCode, TOTP_PERIOD_SECONDS } from '../lib/index.js';
import { startEmbeddedMongoDB, type EmbeddedMongoDB } from '../server/app/embedded-mongodb.js';
import { TestMongoClient } from './helpers/database.js';
import { FetchClient } from './helpers/fetch-client.js';

t.setTimeout(600_000);

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const rootPackage = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
/** The same versions this repository is tested with, so the install comes from npm's cache. */
const installed = async (name: string) => `${name}@${JSON.parse(await readFile(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version}`;
const APP_DEPENDENCIES = [
  'mongodb', 'express', 'express-session', 'passport', 'passport-local', 'fastify', '@fastify/passport', '@fastify/session',
  '@fastify/cookie', 'typescript', '@types/node', '@types/express', '@types/express-session', '@types/passport',
];
const OUTAGE_ANSWER_LIMIT_MS = 6_000;

const workDir = await mkdtemp(path.join(tmpdir(), 'consumer-'));
t.teardown(() => rm(workDir, { recursive: true, force: true }));
const consumer = path.join(workDir, 'app');
const tsc = path.join(consumer, 'node_modules', '.bin', 'tsc');

const { stdout: packOutput } = await run('npm', ['pack', '--json', '--pack-destination', workDir], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
const packed = JSON.parse(packOutput.slice(packOutput.indexOf('[')))[0] as { filename: string; files: { path: string }[] };
const tarball = path.join(workDir, packed.filename);

await mkdir(consumer);
await writeFile(path.join(consumer, 'package.json'), JSON.stringify({ name: 'throwaway-app', private: true }));
await run(
  'npm',
  ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...(await Promise.all(APP_DEPENDENCIES.map(installed)))],
  { cwd: consumer, maxBuffer: 16 * 1024 * 1024 },
);

t.test('the tarball holds the built library, its declarations and its papers, nothing else', async (t) => {
  const files = packed.files.map((file) => file.path).sort();
  for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'dist/lib/index.js', 'dist/lib/index.d.ts']) {
    t.ok(files.includes(file), file);
  }
  const others = files.filter((file) => !['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json'].includes(file));
  t.same(others.filter((file) => !/^dist\/lib\/[a-z-]+\.(js|d\.ts)$/.test(file)), [], 'no source maps, sources or tests');
  t.same(rootPackage.peerDependencies, { mongodb: '^6.0.0 || ^7.0.0' }, 'the driver is a peer');
  t.notOk(rootPackage.dependencies.mongodb, 'and no copy of its own');
  t.same(rootPackage.engines, { node: '^20.19.0 || >=22.12.0' }, 'where import and require both work without a flag');
  t.ok(['passport', 'passport-strategy', 'totp', '2fa', 'mfa', 'backup-codes', 'mongodb'].every((word) => rootPackage.keywords.includes(word)));
});

t.test('the check-engine command runs as an app runs it, with npx, against the embedded server', async (t) => {
  t.same(rootPackage.bin, { 'passport-totp-backup-code': './dist/lib/check-engine-command.js' }, 'the bin is the built command');
  t.ok(packed.files.some((file) => file.path === 'dist/lib/check-engine-command.js'), 'and it is in the tarball');
  const mongo = await startEmbeddedMongoDB();
  t.teardown(() => mongo.stop());
  const safe = await run('npx', ['--no-install', 'passport-totp-backup-code', 'check-engine', `${mongo.uri}/app`, '--rounds', '1'], { cwd: consumer });
  const lines = safe.stdout.trim().split('\n');
  t.match(lines[0], /^engine: a server reporting MongoDB /);
  t.ok(lines.slice(1, -1).length >= 8 && lines.slice(1, -1).every((line) => line.startsWith('holds  ')), 'one line per shape, each holding');
  t.match(lines.at(-1), /^verdict: SAFE: /, 'exit code 0 and the verdict last');
  const usage = await run('npx', ['--no-install', 'passport-totp-backup-code', 'check-engine'], { cwd: consumer }).then(
    () => null,
    (error: { code?: number; stderr?: string }) => error,
  );
  t.equal(usage?.code, 2, 'no connection string: exit code 2');
  t.match(usage?.stderr, /usage: passport-totp-backup-code check-engine <mongodb-uri>/);
});

t.test("the app's driver 7 is the one copy of mongodb", async (t) => {
  const copies: string[] = [];
  const look = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const child = path.join(dir, entry.name);
      if (entry.name === 'mongodb') copies.push(child);
      if (entry.name.startsWith('@') || entry.name === 'node_modules') await look(child);
      else await look(path.join(child, 'node_modules')).catch(() => {});
    }
  };
  await look(path.join(consumer, 'node_modules'));
  t.equal(copies.length, 1, copies.join(', '));
  t.match(JSON.parse(await readFile(path.join(copies[0]!, 'package.json'), 'utf8')).version, /^7\./);
});

t.test('import and require load the same Strategy, with no warning', async (t) => {
  const esm = await run(process.execPath, ['--input-type=module', '-e', [
    "import { Strategy, TotpOrBackupCodeStrategy, MfaStore } from 'passport-totp-backup-code';",
    'console.log(Strategy === TotpOrBackupCodeStrategy, typeof MfaStore);',
  ].join('\n')], { cwd: consumer });
  t.equal(esm.stdout.trim(), 'true function');
  const cjs = await run(process.execPath, ['-e', [
    "const { Strategy, TotpOrBackupCodeStrategy, MfaStore } = require('passport-totp-backup-code');",
    "const esmCopy = import('passport-totp-backup-code');",
    'esmCopy.then((m) => console.log(Strategy === TotpOrBackupCodeStrategy, typeof MfaStore, m.Strategy === Strategy));',
  ].join('\n')], { cwd: consumer });
  t.equal(cjs.stdout.trim(), 'true function true', 'require and import share one copy of the class');
  t.equal(cjs.stderr, '', 'no experimental warning');
});

// A strict app passing its driver-7 collection, in both module systems, with the package's declarations checked too.
const TYPESCRIPT_CONSUMER = `
import { MongoClient } from 'mongodb';
import { MfaStore, Strategy, isMfaFailureInfo, type MfaFailureInfo, type MfaFailureReason } from 'passport-totp-backup-code';
const client = new MongoClient('mongodb://127.0.0.1:1');
const store = new MfaStore({
  collection: client.db('app').collection('mfa'),
  issuer: 'X',
  encryptionKeys: { currentKeyId: 'k', keys: { k: Buffer.alloc(32) } },
});
const strategy = new Strategy({ store, getPendingUserId: () => null, getUser: (id: string, _request: { body?: unknown }) => ({ id }) });
const info: unknown = { reason: 'locked', status: 429, message: 'wait' };
const reason: MfaFailureReason | null = isMfaFailureInfo(info) ? (info satisfies MfaFailureInfo).reason : null;
console.log(strategy.name, reason);
void client.close();
`;

t.test('TypeScript apps on module commonjs (default target) and nodenext compile under --strict and run', async (t) => {
  const dir = path.join(consumer, 'ts-consumers');
  await mkdir(dir);
  await writeFile(path.join(dir, 'commonjs.ts'), TYPESCRIPT_CONSUMER);
  await writeFile(path.join(dir, 'nodenext.mts'), TYPESCRIPT_CONSUMER);
  const common = ['--strict', '--types', 'node', '--outDir', path.join(dir, 'out')];
  await run(tsc, [...common, '--module', 'commonjs', path.join(dir, 'commonjs.ts')], { cwd: consumer });
  await run(tsc, [...common, '--module', 'nodenext', '--target', 'es2022', path.join(dir, 'nodenext.mts')], { cwd: consumer });
  t.equal((await run(process.execPath, [path.join(dir, 'out', 'commonjs.js')], { cwd: consumer })).stdout.trim(), 'totp-or-backup-code locked');
  t.equal((await run(process.execPath, [path.join(dir, 'out', 'nodenext.mjs')], { cwd: consumer })).stdout.trim(), 'totp-or-backup-code locked');
});

interface RunningExample {
  baseUrl: string;
  mongo: EmbeddedMongoDB;
  dbUri: string;
  mfaKey: string;
}

/** Starts an example with a MongoDB of its own (so the test can stop it) and waits for its address. */
async function startExample(t: Test, directory: string, entry: string): Promise<RunningExample> {
  const mongo = await startEmbeddedMongoDB();
  t.teardown(() => mongo.stop());
  const dbUri = `${mongo.uri}/example`;
  const mfaKey = randomBytes(32).toString('base64');
  const child: ChildProcess = spawn(process.execPath, [entry], {
    cwd: directory,
    env: { ...process.env, MONGODB_URI: dbUri, MFA_KEY: mfaKey, PORT: '0', NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}:\n${output}`)));
  });
  return { baseUrl, mongo, dbUri, mfaKey };
}

const inFuture = (secret: string) => generateTotpCode(secret, new Date(Date.now() + TOTP_PERIOD_SECONDS * 1000));

/**
 * A POST as another site's page can send it without a CORS preflight, carrying `browser`'s cookies (a
 * browser attaches them when SameSite allows, as from a sibling subdomain): a form's or `text/plain` body,
 * or no body and no content type at all (`fetch(url, { method: 'POST', mode: 'no-cors' })`).
 */
async function crossSitePost(browser: FetchClient, baseUrl: string, path: string, contentType: string | null): Promise<number> {
  const headers: Record<string, string> = {
    cookie: [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
    origin: 'https://attacker.example',
    'sec-fetch-site': 'cross-site',
  };
  if (contentType) headers['content-type'] = contentType;
  const response = await fetch(new URL(path, baseUrl), { method: 'POST', headers, body: contentType ? '{}' : undefined, redirect: 'manual' });
  await response.arrayBuffer();
  return response.status;
}

/** What every example must do, the same way: both TypeScript examples expose the same routes. */
async function driveFullFlow(t: Test, example: RunningExample) {
  const { baseUrl } = example;
  const browser = new FetchClient();
  t.equal((await browser.post(baseUrl, '/register', { username: 'alice', password: 'correct horse' })).status, 201);
  t.equal((await browser.post(baseUrl, '/register', { username: 'alice', password: 'again' })).status, 409, 'a taken name');
  t.equal((await browser.post(baseUrl, '/register', { username: { $ne: null }, password: 'x' })).status, 400, 'an object as a name');
  t.same((await browser.post(baseUrl, '/login', { username: 'alice', password: 'correct horse' })).json, { mfaRequired: false });

  const setup = await browser.post(baseUrl, '/mfa/setup', {});
  t.match(setup.json, { otpauthUrl: /^otpauth:\/\/totp\/Example:alice\?/, secret: /^[A-Z2-7]{32}$/ });
  const secret: string = setup.json.secret;
  const confirmed = await browser.post(baseUrl, '/mfa/confirm', { token: await generateTotpCode(secret) });
  t.equal(confirmed.json.backupCodes.length, 10, 'enrolled, with ten backup codes');
  const backupCodes: string[] = confirmed.json.backupCodes;
  const replaced = await browser.post(baseUrl, '/mfa/setup', {});
  t.match(replaced, { status: 409, json: { error: 'MFA is already on' } }, 'a session alone cannot start a new authenticator');
  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null]) {
    t.equal(await crossSitePost(browser, baseUrl, '/logout', contentType), 415, `a cross-site logout (${contentType ?? 'no body'}) is refused`);
  }
  t.same((await browser.get(baseUrl, '/me')).json, { username: 'alice' }, 'and signs nobody out');
  t.equal((await browser.post(baseUrl, '/logout', {})).status, 204);
  t.equal((await browser.get(baseUrl, '/me')).status, 401);

  t.equal((await browser.post(baseUrl, '/login', { username: 'alice', password: 'wrong' })).status, 401);
  t.same((await browser.post(baseUrl, '/login', { username: 'alice', password: 'correct horse' })).json, { mfaRequired: true });
  t.equal((await browser.get(baseUrl, '/me')).status, 401, 'the password alone does not sign in');
  const totp = await browser.post(baseUrl, '/login/mfa', { token: await inFuture(secret) });
  t.same(totp.json, { authenticated: true, method: 'totp', remainingBackupCodes: 10, lowOnBackupCodes: false });
  t.same((await browser.get(baseUrl, '/me')).json, { username: 'alice' });
  await browser.post(baseUrl, '/logout', {});

  await browser.post(baseUrl, '/login', { username: 'alice', password: 'correct horse' });
  const backup = await browser.post(baseUrl, '/login/mfa', { token: backupCodes[3] });
  t.match(backup.json, { authenticated: true, method: 'backup_code', remainingBackupCodes: 9 });
  await browser.post(baseUrl, '/logout', {});

  await browser.post(baseUrl, '/login', { username: 'alice', password: 'correct horse' });
  const reuse = await browser.post(baseUrl, '/login/mfa', { token: backupCodes[3] });
  t.equal(reuse.status, 401);
  t.equal(reuse.json.reason, 'invalid', 'a used code is refused');
  const malformed = await browser.post(baseUrl, '/login/mfa', { token: 'twelve' });
  t.match(malformed, { status: 400, json: { reason: 'malformed' } });
  for (let failure = 2; failure <= 5; failure++) await browser.post(baseUrl, '/login/mfa', { token: '000000' });
  const throttled = await browser.post(baseUrl, '/login/mfa', { token: backupCodes[4] });
  t.equal(throttled.status, 429);
  t.equal(throttled.json.reason, 'throttled');
  t.equal(throttled.headers.get('retry-after'), '1', 'Retry-After says how long to wait');

  await example.mongo.stop();
  const started = Date.now();
  const outage = await browser.post(baseUrl, '/login/mfa', { token: backupCodes[4] });
  t.equal(outage.status, 503, 'a second factor during an outage');
  t.ok(Date.now() - started < OUTAGE_ANSWER_LIMIT_MS, `answered in ${Date.now() - started} ms`);
  t.equal((await browser.post(baseUrl, '/login', { username: 'alice', password: 'correct horse' })).status, 503, 'a password step too');
}

for (const name of ['express', 'fastify']) {
  t.test(`examples/${name}: compiles under --strict and signs in with TOTP and backup codes over HTTP`, async (t) => {
    const directory = path.join(consumer, `example-${name}`);
    await cp(path.join(root, 'examples', name), directory, { recursive: true, filter: (source) => !/node_modules|dist/.test(source) });
    await run(tsc, ['-p', directory], { cwd: consumer });
    await driveFullFlow(t, await startExample(t, directory, 'dist/app.js'));
  });
}

t.test('examples/commonjs: plain require, passport-local and the second factor', async (t) => {
  const directory = path.join(consumer, 'example-commonjs');
  await cp(path.join(root, 'examples', 'commonjs'), directory, { recursive: true });
  const example = await startExample(t, directory, 'app.js');

  // The example has no sign-up: the user and the enrolment are made as its header comment says.
  const client = await TestMongoClient.connect(example.dbUri);
  t.teardown(() => client.close());
  const salt = randomBytes(16).toString('hex');
  await client.db().collection('users').insertOne({ id: 'u1', username: 'bob', passwordHash: `${salt}:${scryptSync('pw', salt, 32).toString('hex')}` });
  const store = new MfaStore({
    collection: client.db().collection('mfa'),
    issuer: 'Example',
    encryptionKeys: { currentKeyId: 'k1', keys: { k1: Buffer.from(example.mfaKey, 'base64') } },
    bcryptCost: 4,
  });
  const { secret } = await store.beginEnrollment('u1', 'bob');
  const enrolled = await store.confirmEnrollment('u1', await generateTotpCode(secret));
  if (!enrolled.ok) throw new Error(`enrolment failed: ${enrolled.reason}`);

  const browser = new FetchClient();
  t.equal((await browser.post(example.baseUrl, '/login', { username: 'bob', password: 'nope' })).status, 401);
  t.match(await browser.post(example.baseUrl, '/login', { username: { $ne: null }, password: 'pw' }), { status: 400, json: { error: 'Missing credentials' } }, 'passport-local reads no object as a name');
  t.same((await browser.post(example.baseUrl, '/login', { username: 'bob', password: 'pw' })).json, { mfaRequired: true });
  t.equal((await browser.get(example.baseUrl, '/me')).status, 401);
  const wrong = await browser.post(example.baseUrl, '/login/mfa', { token: '000000' });
  t.match(wrong, { status: 401, json: { reason: 'invalid' } });
  const totp = await browser.post(example.baseUrl, '/login/mfa', { token: await inFuture(secret) });
  t.match(totp.json, { authenticated: true, method: 'totp' });
  t.same((await browser.get(example.baseUrl, '/me')).json, { username: 'bob' });

  const second = new FetchClient();
  await second.post(example.baseUrl, '/login', { username: 'bob', password: 'pw' });
  await example.mongo.stop();
  t.equal((await second.post(example.baseUrl, '/login/mfa', { token: enrolled.backupCodes[0] })).status, 503, 'an outage is a 503');
});
