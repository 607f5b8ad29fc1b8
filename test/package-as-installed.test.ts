// The package as an app gets it: packed into a tarball, installed beside the app's own MongoDB
// driver into a throwaway project, loaded by name from ESM, CommonJS and TypeScript, and each
// example app built from the package.json and tsconfig.json the README's Install gives (strict,
// libraries checked too) and driven over real HTTP against an embedded MongoDB.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { generateTotpCode, TOTP_PERIOD_SECONDS } from '../lib/index.js';
import { startEmbeddedMongoDB, type EmbeddedMongoDB } from '../server/app/embedded-mongodb.js';
import { FetchClient } from './helpers/fetch-client.js';
import { readmeAppFile, readmeBlocks } from './helpers/readme-blocks.js';

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
// The app's own request type, with no body in it: the strategy takes any.
interface AppRequest { session: { pendingUserId?: string } }
const own = new Strategy({ store, getPendingUserId: (request: AppRequest) => request.session.pendingUserId ?? null, getUser: (id) => ({ id }) });
const info: unknown = { reason: 'locked', status: 429, message: 'wait' };
const reason: MfaFailureReason | null = isMfaFailureInfo(info) ? (info satisfies MfaFailureInfo).reason : null;
console.log(strategy.name === own.name ? strategy.name : 'two names', reason);
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
  t.equal((await browser.post(baseUrl, '/mfa/confirm')).status, 400, 'a confirmation without a body');
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

const EXAMPLES = [
  { name: 'express', entry: 'dist/app.js' },
  { name: 'fastify', entry: 'dist/app.js' },
  { name: 'commonjs', entry: 'app.js' },
] as const;
type ExampleName = (typeof EXAMPLES)[number]['name'];

/**
 * An example as an adopter sets it up: the TypeScript ones from the README's package.json and
 * tsconfig.json with the example's files beside them (app.ts, and the Fastify one's declaration
 * shim), built with tsc; the CommonJS one as its folder holds it. Built once, then shared.
 */
const prepared = new Map<ExampleName, Promise<string>>();
function prepareExample(name: ExampleName): Promise<string> {
  if (!prepared.has(name)) prepared.set(name, (async () => {
    const directory = path.join(consumer, `example-${name}`);
    await mkdir(directory);
    if (name === 'commonjs') {
      await copyFile(path.join(root, 'examples', name, 'app.js'), path.join(directory, 'app.js'));
      await copyFile(path.join(root, 'examples', name, 'package.json'), path.join(directory, 'package.json'));
      return directory;
    }
    await writeFile(path.join(directory, 'package.json'), await readmeAppFile('package.json'));
    await writeFile(path.join(directory, 'tsconfig.json'), await readmeAppFile('tsconfig.json'));
    for (const file of await readdir(path.join(root, 'examples', name))) {
      if (/^app\.ts$|\.d\.ts$/.test(file)) await copyFile(path.join(root, 'examples', name, file), path.join(directory, file));
    }
    await run(tsc, ['-p', directory], { cwd: consumer });
    return directory;
  })());
  return prepared.get(name)!;
}

t.test("the README's Install names every package each TypeScript example needs", async (t) => {
  // The lines after "# an Express app" or "# a Fastify app" in the README's shell blocks.
  const named = { express: new Set<string>(), fastify: new Set<string>() };
  let section: keyof typeof named | null = null;
  for (const line of (await readmeBlocks()).filter((block) => block.language === 'sh').flatMap((block) => block.body.split('\n'))) {
    const heading = /^# an? (Express|Fastify) app/.exec(line);
    if (heading) section = heading[1]!.toLowerCase() as keyof typeof named;
    else if (line.startsWith('#') || line === '') section = null;
    else if (section && line.startsWith('npm install ')) {
      for (const word of line.split(/\s+/)) named[section].add(word.includes('vendor/passport-totp-backup-code-') ? 'passport-totp-backup-code' : word);
    }
  }
  for (const name of ['express', 'fastify'] as const) {
    const app = await readFile(path.join(root, 'examples', name, 'app.ts'), 'utf8');
    const imported = [...app.matchAll(/^import .* from '([^'.][^']*)';$/gm)].map((match) => match[1]!).filter((spec) => !spec.startsWith('node:'));
    t.ok(imported.length >= 5, `${name}: its imports are read`);
    // For Express, the type packages too: without @types/express-session, TS7016 and TS2665.
    const types = name === 'express' ? ['@types/express', '@types/express-session', '@types/passport'] : [];
    for (const dependency of [...imported, 'typescript', '@types/node', ...types]) t.ok(named[name].has(dependency), `${name}: ${dependency}`);
  }
});

t.test('the Fastify example needs its declaration shim under a strict build without skipLibCheck', async (t) => {
  await prepareExample('fastify');
  const directory = path.join(consumer, 'fastify-without-the-shim');
  await mkdir(directory);
  for (const file of ['package.json', 'tsconfig.json']) await writeFile(path.join(directory, file), await readmeAppFile(file));
  await copyFile(path.join(root, 'examples', 'fastify', 'app.ts'), path.join(directory, 'app.ts'));
  const failed = await run(tsc, ['-p', directory], { cwd: consumer }).then(() => null, (error: { stdout?: string }) => error);
  t.match(failed?.stdout, /@fastify\/flash\/lib\/flash\.d\.ts.*Cannot find module '@fastify\/secure-session'/, 'without it: upstream fastify-flash#167');
});

for (const name of ['express', 'fastify'] as const) {
  t.test(`examples/${name}: built as the README says, signs in with TOTP and backup codes over HTTP`, async (t) => {
    const directory = await prepareExample(name);
    await driveFullFlow(t, await startExample(t, directory, 'dist/app.js'));
  });
}

t.test('examples/commonjs: plain require and passport-local, the same app driven the same way', async (t) => {
  const directory = await prepareExample('commonjs');
  const example = await startExample(t, directory, 'app.js');
  // passport-local reads the name before any database read.
  const browser = new FetchClient();
  t.match(await browser.post(example.baseUrl, '/login', { username: { $ne: null }, password: 'pw' }), { status: 400, json: { error: 'Missing credentials' } }, 'passport-local reads no object as a name');
  await driveFullFlow(t, example);
});

t.test('an example started on a taken port says so and exits, for each of the three', async (t) => {
  const mongo = await startEmbeddedMongoDB();
  t.teardown(() => mongo.stop());
  const taken = createServer();
  taken.listen(0, '127.0.0.1');
  await once(taken, 'listening');
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as AddressInfo).port;
  for (const { name, entry } of EXAMPLES) {
    const directory = await prepareExample(name);
    const child = spawn(process.execPath, [entry], {
      cwd: directory,
      env: { ...process.env, MONGODB_URI: `${mongo.uri}/taken-port`, MFA_KEY: randomBytes(32).toString('base64'), PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    t.not(code, 0, `${name}: exits with an error`);
    t.match(output, `EADDRINUSE: address already in use 127.0.0.1:${port}`, `${name}: names the taken address`);
    t.notMatch(output, /Cannot read properties/, `${name}: not a TypeError of its own`);
    t.notMatch(output, /listening on/, `${name}: never claims to listen`);
  }
});

t.test("a tarball in the app's vendor/ folder installs again from a copy of the app, as CI and Docker make one", async (t) => {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const install = readme.slice(readme.indexOf('## Install'), readme.indexOf('\n## ', readme.indexOf('## Install') + 1));
  for (const step of [`file:vendor/${packed.filename}`, 'COPY package.json package-lock.json ./', 'COPY vendor/ vendor/', 'RUN npm ci']) {
    t.ok(install.includes(step), `the README's Install says ${step}`);
  }
  const app = path.join(workDir, 'vendored-app');
  await mkdir(path.join(app, 'vendor'), { recursive: true });
  await copyFile(tarball, path.join(app, 'vendor', packed.filename));
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'vendored-app', private: true }));
  const npmInstall = ['--no-audit', '--no-fund', '--prefer-offline'];
  await run('npm', ['install', ...npmInstall, `./vendor/${packed.filename}`, await installed('mongodb')], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
  const recorded = JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8')).dependencies['passport-totp-backup-code'];
  t.equal(recorded, `file:vendor/${packed.filename}`, 'recorded relative to the app, inside it');

  // What a Dockerfile copies, in a folder of its own elsewhere: nothing outside the app is needed.
  const build = path.join(workDir, 'docker-build', 'app');
  await mkdir(path.join(build, 'vendor'), { recursive: true });
  for (const file of ['package.json', 'package-lock.json', `vendor/${packed.filename}`]) await copyFile(path.join(app, file), path.join(build, file));
  await run('npm', ['ci', ...npmInstall], { cwd: build, maxBuffer: 16 * 1024 * 1024 });
  const loaded = await run(process.execPath, ['-e', "console.log(typeof require('passport-totp-backup-code').Strategy)"], { cwd: build });
  t.equal(loaded.stdout.trim(), 'function');
});
