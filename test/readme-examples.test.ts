// The README's code is the examples' code: each program block is an example file, byte for byte,
// and those files are compiled and driven over HTTP by test/package-as-installed.test.ts, built
// with the package.json and tsconfig.json the README's Install gives an app.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { codeBlocks } from './helpers/readme-blocks.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = await readFile(path.join(root, 'README.md'), 'utf8');
const scripts = Object.keys(JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).scripts);

const blocks = codeBlocks(readme);
const PROGRAM_LANGUAGES = ['ts', 'typescript', 'js', 'javascript', 'mjs', 'cjs', 'tsx'];

t.test('every program in the README is an example file, exactly', async (t) => {
  const programs = blocks.filter((block) => PROGRAM_LANGUAGES.includes(block.language));
  t.ok(programs.length >= 3, 'the Express, Fastify and CommonJS examples are shown');
  for (const block of programs) {
    t.ok(block.example, `a ${block.language} block names its file`);
    if (!block.example) continue;
    t.equal(block.body, await readFile(path.join(root, block.example), 'utf8'), `${block.example} matches the README`);
  }
});

t.test('every example app is in the README', async (t) => {
  const shown = new Set(blocks.map((block) => block.example));
  for (const name of await readdir(path.join(root, 'examples'))) {
    const files = (await readdir(path.join(root, 'examples', name))).filter((file) => /^app\.(ts|js)$/.test(file));
    t.equal(files.length, 1, `examples/${name} has one app file`);
    t.ok(shown.has(`examples/${name}/${files[0]}`), `examples/${name}/${files[0]} is shown`);
    for (const declarations of (await readdir(path.join(root, 'examples', name))).filter((file) => file.endsWith('.d.ts'))) {
      t.ok(shown.has(`examples/${name}/${declarations}`), `examples/${name}/${declarations} is shown too`);
    }
  }
});

t.test("the README's package.json and tsconfig.json for an app are JSON, and the examples build with that tsconfig", async (t) => {
  const config = blocks.filter((block) => block.language === 'json');
  t.same(config.map((block) => block.appFile).sort(), ['package.json', 'tsconfig.json'], 'each marked as the app file it is');
  for (const block of config) t.doesNotThrow(() => JSON.parse(block.body), `${block.appFile} parses`);
  const tsconfig = config.find((block) => block.appFile === 'tsconfig.json')!.body;
  t.notMatch(tsconfig, /skipLibCheck/, 'libraries are type-checked too');
  t.match(JSON.parse(config.find((block) => block.appFile === 'package.json')!.body), { type: 'module' }, 'top-level await needs an ES module');
  for (const name of ['express', 'fastify']) {
    t.equal(await readFile(path.join(root, 'examples', name, 'tsconfig.json'), 'utf8'), tsconfig, `examples/${name}/tsconfig.json is the README's`);
  }
});

t.test('every npm command in the README exists', async (t) => {
  const commands = blocks.filter((block) => ['sh', 'bash', 'shell', 'console'].includes(block.language)).map((block) => block.body).join('\n');
  for (const [, script] of commands.matchAll(/npm run ([\w:-]+)/g)) t.ok(scripts.includes(script!), `npm run ${script}`);
  const others = blocks.filter((block) => ![...PROGRAM_LANGUAGES, 'json', 'sh', 'bash', 'shell', 'console'].includes(block.language));
  t.same(others.map((block) => block.language), others.map(() => 'text'), 'other blocks are plain text, not code to run');
});
