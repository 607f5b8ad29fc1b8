/**
 * The README's fenced blocks, with the file each one is marked as: `<!-- example: PATH -->`
 * (a file of this repository, shown byte for byte) or `<!-- app file: NAME -->` (a file an
 * adopter writes into their own app, which the tarball test builds an app from).
 */
import { readFile } from 'node:fs/promises';

export interface CodeBlock {
  language: string;
  body: string;
  /** The repository file named by an `<!-- example: PATH -->` line just before the block. */
  example: string | null;
  /** The app's file named by an `<!-- app file: NAME -->` line just before the block. */
  appFile: string | null;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const fence = /(?:<!-- (example|app file): (\S+) -->\n)?^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    blocks.push({
      example: match[1] === 'example' ? match[2]! : null,
      appFile: match[1] === 'app file' ? match[2]! : null,
      language: match[3]!,
      body: match[4]!,
    });
  }
  return blocks;
}

export async function readmeBlocks(): Promise<CodeBlock[]> {
  return codeBlocks(await readFile(new URL('../../README.md', import.meta.url), 'utf8'));
}

/** The body of the README's block marked `<!-- app file: NAME -->`; throws when there is none or more than one. */
export async function readmeAppFile(name: string): Promise<string> {
  const found = (await readmeBlocks()).filter((block) => block.appFile === name);
  if (found.length !== 1) throw new Error(`the README has ${found.length} blocks marked <!-- app file: ${name} -->`);
  return found[0]!.body;
}
