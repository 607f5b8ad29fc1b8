// The README's code is the examples' code: each program block is an example file, byte for byte,
// and those files are compiled and driven over HTTP by test/package-as-installed.test.ts.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = await readFile(path.join(root, 'README.md'), 'utf8');
const scripts = Object.keys(JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).scripts);

interface CodeBlock {
  language: string;
  body: string;
  /** The file named by an `<!-- example: PATH -->` line just before the block, if any. */
  example: string | null;
}

function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const fence = /(?:<!-- example: (\S+) -->\n)?^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    blocks.push({ example: match[1] ?? null, language: match[2]!, body: match[3]! });
  }
  return blocks;
}

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
  }
});

t.test('every npm command in the README exists', async (t) => {
  const commands = blocks.filter((block) => ['sh', 'bash', 'shell', 'console'].includes(block.language)).map((block) => block.body).join('\n');
  for (const [, script] of commands.matchAll(/npm run ([\w:-]+)/g)) t.ok(scripts.includes(script!), `npm run ${script}`);
  const others = blocks.filter((block) => ![...PROGRAM_LANGUAGES, 'sh', 'bash', 'shell', 'console'].includes(block.language));
  t.same(others.map((block) => block.language), others.map(() => 'text'), 'other blocks are plain text, not code to run');
});
