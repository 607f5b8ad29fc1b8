import t from 'tap';
import { openTestDatabase } from './helpers/database.js';
import { mongodbUriOf, startServerProcess } from './helpers/server-process.js';

const READY_LINE = /^TOTP demo ready at http:\/\/127\.0\.0\.1:\d+ \(Ctrl-C stops it\)$/;

function linesOf(output: string): string[] {
  return output.split('\n').filter((line) => line.trim() !== '');
}

t.test('npm start prints readable log lines, and the address last, after the warnings', async (t) => {
  const { db } = await openTestDatabase(t);
  // LOG_FORMAT empty: the default, as a person typing `npm start` gets it.
  const demo = await startServerProcess({ MONGODB_URI: mongodbUriOf(db.databaseName), PORT: '0', LOG_FORMAT: '' });
  t.teardown(() => demo.stop());
  const lines = linesOf(demo.output());

  t.match(lines.at(-1), READY_LINE, 'the last line is the address, alone on its line');
  t.ok(lines.findIndex((line) => /generated a random value for this run only/.test(line)) < lines.length - 1, 'the warning about unset secrets comes before it');
  t.ok(lines.some((line) => /^\[\d\d:\d\d:\d\d\] INFO: Server listening at http:/.test(line)), 'log lines read as time, level and message');
  t.notOk(lines.some((line) => line.startsWith('{')), 'no raw JSON');
  t.notOk(lines.some((line) => /Warning|FSTDEP|deprecated/i.test(line)), 'no deprecation warning from the frameworks');
});

for (const [what, env] of [
  ['LOG_FORMAT=json', { LOG_FORMAT: 'json' }],
  ['NODE_ENV=production', { NODE_ENV: 'production', LOG_FORMAT: '', SESSION_SECRET: 's'.repeat(40), MFA_ENCRYPTION_KEY: 'ab'.repeat(32) }],
] as const) {
  t.test(`with ${what} the log lines stay pino JSON, for a log collector`, async (t) => {
    const { db } = await openTestDatabase(t);
    const demo = await startServerProcess({ MONGODB_URI: mongodbUriOf(db.databaseName), PORT: '0', ...env });
    t.teardown(() => demo.stop());
    const lines = linesOf(demo.output());

    t.match(lines.at(-1), READY_LINE, 'the address is still last and plain');
    const logLines = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    t.ok(logLines.some((line) => line.level === 30 && /^Server listening at http:/.test(line.msg)), 'Fastify logs as JSON');
  });
}
