import t from 'tap';
import { logDestination, REDACTED } from '../server/app/logger.js';
import { logCollector } from './helpers/log-collector.js';
import { TEST_PASSWORD, TestClient, enableMfa, pendingClient, registerAndLogIn, startTestApp } from './helpers/server.js';

/**
 * The two ways `npm start` writes logs, each with how to read back the fields
 * of one line: a pino JSON line, or a pretty one that ends in its fields as JSON.
 */
const FORMATS = [
  { format: 'json', fieldsOf: (line: string) => JSON.parse(line) },
  { format: 'pretty', fieldsOf: (line: string) => JSON.parse(/\{.*\}$/.exec(line)![0]) },
] as const;

for (const { format, fieldsOf } of FORMATS) {
  t.test(`${format} logs: no password, code, key, backup code or cookie reaches them, even at trace level`, async (t) => {
    const logs = logCollector();
    const { app } = await startTestApp(t, { logger: { level: 'trace', stream: logDestination(format, logs.stream) } });
    const client = new TestClient(app);
    const username = await registerAndLogIn(client);
    const { device, secret, backupCodes } = await enableMfa(client);
    await client.post('/api/logout');

    const totp = await device.nextCode();
    const viaTotp = await pendingClient(app, username);
    t.equal((await viaTotp.post('/api/login/mfa', { token: totp })).status, 200);
    const viaBackup = await pendingClient(app, username);
    t.equal((await viaBackup.post('/api/login/mfa', { token: backupCodes[0] })).status, 200);
    const wrongCode = await device.wrongCode();
    await (await pendingClient(app, username)).post('/api/login/mfa', { token: wrongCode });
    await client.request({ method: 'POST', url: '/api/login', headers: { 'content-type': 'application/json' }, payload: `{"username":"${username}","password":"${TEST_PASSWORD}` });
    app.log.info({ password: TEST_PASSWORD, body: { token: totp }, user: { secret } }, 'a careless log line');

    const output = logs.lines.join('\n');
    t.ok(logs.lines.length > 20, `${logs.lines.length} log lines written`);
    t.match(output, /mfa event/, 'MFA events are logged');
    if (format === 'pretty') t.notOk(logs.lines.some((line) => line.startsWith('{')), 'no line is raw JSON');
    const secrets: Array<[string, string]> = [
      ['the password', TEST_PASSWORD],
      ['the TOTP key', secret],
      ['a TOTP code', totp],
      ['a wrong code', wrongCode],
      ...backupCodes.map((code): [string, string] => ['a backup code', code]),
      ...[...viaTotp.cookies.values()].map((value): [string, string] => ['a session cookie', value]),
    ];
    for (const [what, value] of secrets) {
      // Six digits also occur inside timestamps; a logged code would be a JSON string.
      const needle = /^\d+$/.test(value) ? `"${value}"` : value;
      t.notOk(output.includes(needle), `${what} is not logged`);
    }
    const careless = fieldsOf(logs.lines.find((line) => line.includes('a careless log line'))!);
    t.same(careless, { ...careless, password: REDACTED, body: REDACTED, user: { secret: REDACTED } }, 'secret fields are redacted');
  });
}
