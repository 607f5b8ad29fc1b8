import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

// What an app gets from `npm install`: compiled JavaScript and declarations behind the
// exports map, usable from plain Node and from TypeScript without this repo's tooling.
t.test('the package builds, packs only the library, and imports by its name', async (t) => {
  await run(bin('tsc'), ['-p', 'tsconfig.build.json'], { cwd: root });

  const { stdout: packed } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
  const files: string[] = JSON.parse(packed)[0].files.map((file: { path: string }) => file.path);
  t.ok(files.includes('dist/lib/index.js') && files.includes('dist/lib/index.d.ts'), 'JavaScript and declarations');
  t.same(files.filter((file) => !file.startsWith('dist/lib/') && !['package.json', 'README.md'].includes(file)), [], 'nothing else');

  // A package may import itself by name: this resolves through the exports map to dist/.
  const script = "const m = await import('passport-totp-backup-code'); console.log(typeof m.MfaStore, typeof m.TotpOrBackupCodeStrategy)";
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
  t.equal(stdout.trim(), 'function function');

  const consumer = path.join(root, `.consumer-check-${process.pid}.mts`);
  t.teardown(() => rm(consumer, { force: true }));
  await writeFile(
    consumer,
    [
      "import { MfaStore, TotpOrBackupCodeStrategy, type MfaStoreOptions, type VerificationResult } from 'passport-totp-backup-code';",
      'declare const options: MfaStoreOptions;',
      'const store = new MfaStore(options);',
      "const result: VerificationResult = await store.verifyCode('u1', '123456');",
      "new TotpOrBackupCodeStrategy({ store, getPendingUserId: () => 'u1', getUser: () => ({ id: 'u1' }) });",
      'export { result };',
    ].join('\n'),
  );
  await run(bin('tsc'), ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', consumer], { cwd: root });
  t.pass('a strict NodeNext TypeScript consumer type-checks against the declarations');
});
