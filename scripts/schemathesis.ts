/**
 * `npm run fuzz`: Schemathesis against the JSON API, as `GET /openapi.json`
 * describes it. Starts the demo app on an embedded in-memory MongoDB at
 * 127.0.0.1 (an ephemeral port), then runs Schemathesis twice: signed out,
 * and signed in with a session cookie. Exits non-zero when either run finds
 * anything: a 5xx, a status, content type, header or body the document does
 * not allow, or a request the document forbids that the server accepts.
 *
 * Extra arguments go to both runs: `npm run fuzz -- --max-examples 500`.
 * `npm run fuzz:install` only sets up Schemathesis: a virtual environment in
 * the git-ignored .venv-schemathesis/ with the pinned version (`npm run fuzz`
 * does that too when it is missing). Reports and the server's log go to
 * test-results/schemathesis/.
 */
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { MongoClient } from 'mongodb';
import { buildApp } from '../server/build-app.js';
import { readConfig } from '../server/app/config.js';
import { OPENAPI_PATH } from '../server/routes/openapi.js';
import { SESSION_COOKIE_NAME } from '../server/sessions/sessions.js';
import { startEmbeddedMongoDB, type EmbeddedMongoDB } from '../server/app/embedded-mongodb.js';

/** The one version CI installs; bump it on purpose, then run `npm run fuzz`. */
export const SCHEMATHESIS_VERSION = '4.32.5';
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const VENV_DIR = path.join(REPO_ROOT, '.venv-schemathesis');
const SCHEMATHESIS_BIN = path.join(VENV_DIR, 'bin', 'schemathesis');
const REPORT_DIR = path.join(REPO_ROOT, 'test-results', 'schemathesis');

/** Test cases per operation and phase: about 45 s a run on 2 cores, well inside CI's time. */
const DEFAULT_MAX_EXAMPLES = 300;
/** A run that takes longer than this is stopped and counted as failed. */
const RUN_TIMEOUT_MS = 10 * 60_000;
/** High enough that the per-address rate limit never answers Schemathesis's bursts. */
const FUZZ_RATE_LIMIT_MAX = 1_000_000;
/** Fast hashing, as in the tests: the fuzzer registers and signs in hundreds of times. */
const FUZZ_BCRYPT_COST = 4;
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
];

interface FuzzRun {
  name: string;
  /** Arguments of this run only, before the ones given to the script. */
  args: string[];
}

interface RunningDemo {
  url: string;
  stop(): Promise<void>;
}

const execFileAsync = promisify(execFile);

/** The installed Schemathesis's version, or `null` when there is none in the venv. */
async function installedVersion(): Promise<string | null> {
  if (!existsSync(SCHEMATHESIS_BIN)) return null;
  try {
    const { stdout } = await execFileAsync(SCHEMATHESIS_BIN, ['--version']);
    return /version (\S+)/.exec(stdout)?.[1] ?? null;
  } catch {
    return null;
  }
}

async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed with exit code ${code}`);
}

/** Creates the venv and installs the pinned Schemathesis unless it is there already. */
async function ensureSchemathesis(): Promise<void> {
  if ((await installedVersion()) === SCHEMATHESIS_VERSION) return;
  process.stderr.write(`fuzz: installing schemathesis ${SCHEMATHESIS_VERSION} into ${path.relative(REPO_ROOT, VENV_DIR)}/\n`);
  if (!existsSync(path.join(VENV_DIR, 'bin', 'pip'))) {
    await run('python3', ['-m', 'venv', VENV_DIR]).catch((error: unknown) => {
      throw new Error(`could not create a Python virtual environment (on Debian: apt-get install python3-venv): ${String(error)}`);
    });
  }
  await run(path.join(VENV_DIR, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`]);
}

/** The demo app on a fresh in-memory database at 127.0.0.1, its log in `logFile`. */
async function startDemo(logFile: string): Promise<RunningDemo> {
  const mongo: EmbeddedMongoDB = await startEmbeddedMongoDB();
  const client = await MongoClient.connect(mongo.uri, { serverSelectionTimeoutMS: 2_500 });
  const log = createWriteStream(logFile);
  let app: FastifyInstance | null = null;
  try {
    const config = readConfig({ RATE_LIMIT_MAX: String(FUZZ_RATE_LIMIT_MAX) });
    app = await buildApp({ db: client.db('fuzz'), config, bcryptCost: FUZZ_BCRYPT_COST, logger: { level: 'info', stream: log } });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    return {
      url,
      async stop() {
        await app!.close();
        await client.close();
        await mongo.stop();
        log.end();
      },
    };
  } catch (error) {
    await app?.close();
    await client.close();
    await mongo.stop();
    log.end();
    throw error;
  }
}

/** Registers a user and signs in; returns the `Cookie` header of the session. */
async function signIn(url: string): Promise<string> {
  const credentials = { username: `fuzz-${randomBytes(4).toString('hex')}`, password: randomBytes(18).toString('base64') };
  const post = (route: string) =>
    fetch(new URL(route, url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials) });
  const registered = await post('/api/register');
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${await registered.text()}`);
  const login = await post('/api/login');
  if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`);
  const cookie = login.headers.getSetCookie().find((header) => header.startsWith(`${SESSION_COOKIE_NAME}=`));
  if (!cookie) throw new Error('login set no session cookie');
  return cookie.split(';', 1)[0]!;
}

/** Runs Schemathesis once; resolves with its exit code (1 when it had to be stopped). */
async function runSchemathesis(demoUrl: string, fuzzRun: FuzzRun, extraArgs: string[]): Promise<number> {
  const reportDir = path.join(REPORT_DIR, fuzzRun.name);
  const args = [
    'run',
    new URL(OPENAPI_PATH, demoUrl).href,
    // The document's server is relative; name the base URL anyway, so nothing but this server is ever a target.
    '--url',
    demoUrl,
    '--checks',
    CHECKS.join(','),
    '--max-examples',
    String(DEFAULT_MAX_EXAMPLES),
    '--workers',
    '2',
    '--request-timeout',
    '10',
    '--report',
    'junit',
    '--report-dir',
    reportDir,
    // Kept between runs: Schemathesis tries the examples that failed last time first.
    '--generation-database',
    path.join(REPORT_DIR, 'examples'),
    '--no-color',
    ...fuzzRun.args,
    ...extraArgs,
  ];
  await rm(reportDir, { recursive: true, force: true });
  const shown = args.join(' ').replace(new RegExp(`${SESSION_COOKIE_NAME}=\\S+`), `${SESSION_COOKIE_NAME}=...`);
  process.stdout.write(`\nfuzz: ${fuzzRun.name}: schemathesis ${shown}\n`);
  // In the report folder, where Schemathesis also keeps its crash files (.schemathesis/).
  const child = spawn(SCHEMATHESIS_BIN, args, { cwd: REPORT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  relayWithoutBanners(child.stdout, process.stdout);
  relayWithoutBanners(child.stderr, process.stderr);
  const timer = setTimeout(() => {
    process.stderr.write(`fuzz: ${fuzzRun.name}: still running after ${RUN_TIMEOUT_MS / 60_000} minutes; stopping it\n`);
    child.kill('SIGTERM');
  }, RUN_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  clearTimeout(timer);
  return code ?? 1;
}

/**
 * Schemathesis closes its sections with pytest's banners (`==== 1 warning in 33.12s ====`). CI reads a
 * line of that form as pytest's own summary, which counts no test; these are redrawn with dashes.
 */
const PYTEST_BANNER = /^=+( .* )=+$/;

function relayWithoutBanners(from: Readable, to: NodeJS.WritableStream): void {
  const lines = createInterface({ input: from, crlfDelay: Infinity });
  lines.on('line', (line) => {
    to.write(`${line.replace(PYTEST_BANNER, (_banner, title: string) => `---${title}---`)}\n`);
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--install')) {
    await ensureSchemathesis();
    process.stdout.write(`fuzz: schemathesis ${SCHEMATHESIS_VERSION} is ready in ${path.relative(REPO_ROOT, VENV_DIR)}/\n`);
    return 0;
  }
  await ensureSchemathesis();
  await mkdir(REPORT_DIR, { recursive: true });
  const logFile = path.join(REPORT_DIR, 'server.log');
  const demo = await startDemo(logFile);
  const startedAt = Date.now();
  const results: Array<{ name: string; code: number }> = [];
  try {
    const cookie = await signIn(demo.url);
    const runs: FuzzRun[] = [
      { name: 'signed-out', args: [] },
      // Without logout, which ends the session under test, and login and register, which replace it as
      // soon as one succeeds (registering signs in): all three are fuzzed signed out. The cookie is given,
      // not generated: else Schemathesis takes a request it stripped of `sid` for one without a
      // session, while the header still sends it.
      {
        name: 'signed-in',
        args: [
          '--header',
          `Cookie: ${cookie}`,
          '--generation-with-security-parameters',
          'false',
          '--exclude-path-regex',
          '^/api/(log(in|out)|register)$',
          // The links start at register and login; the stateful phase runs signed out.
          '--phases',
          'examples,coverage,fuzzing',
        ],
      },
    ];
    for (const fuzzRun of runs) results.push({ name: fuzzRun.name, code: await runSchemathesis(demo.url, fuzzRun, args) });
  } finally {
    await demo.stop();
  }
  const failed = results.filter((result) => result.code !== 0);
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  for (const result of results) process.stdout.write(`fuzz: ${result.name}: ${result.code === 0 ? 'nothing found' : `FAILED (exit code ${result.code})`}\n`);
  if (failed.length > 0) process.stdout.write(`fuzz: the server's log is in ${path.relative(REPO_ROOT, logFile)}\n`);
  process.stdout.write(`fuzz: ${results.length - failed.length} passed, ${failed.length} failed (${seconds} s)\n`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fuzz: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
