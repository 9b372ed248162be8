// Counts the library's source lines without specs (libs/zero-trust/src/**/*.ts but *.spec.ts), the
// figure the code budget is stated in, and prints it with the largest folders. CI prints it on every
// run; `--max N` exits 1 when the count is above N.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../libs/zero-trust/src', import.meta.url));

async function* sources(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) yield path;
  }
}

let total = 0;
let files = 0;
const byFolder = new Map();
for await (const path of sources(root)) {
  const text = await readFile(path, 'utf8');
  // Lines as `wc -l` counts them: newline characters.
  const lines = text.split('\n').length - 1;
  const folder = relative(root, path).split(sep).slice(0, -1)[0] ?? '.';
  byFolder.set(folder, (byFolder.get(folder) ?? 0) + lines);
  total += lines;
  files += 1;
}

console.log(`library source without specs: ${total} lines in ${files} files`);
for (const [folder, lines] of [...byFolder].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${folder.padEnd(16)} ${String(lines).padStart(6)}`);
}
const at = process.argv.indexOf('--max');
if (at !== -1) {
  const max = Number(process.argv[at + 1]);
  if (!Number.isFinite(max)) {
    console.error('--max needs a number');
    process.exit(2);
  }
  if (total > max) {
    console.error(`over the budget of ${max} lines by ${total - max}`);
    process.exit(1);
  }
}
