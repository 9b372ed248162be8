// Counts the library's source lines without specs (libs/zero-trust/src/**/*.ts but *.spec.ts) and
// prints them with the largest folders. The budget (`--max N`, exit 1 above it) covers the core: the
// capabilities the library had when the budget was set. Capabilities added since then live in their
// own folders (ADDED below), each printed with its own count and the grand total, so new features
// are visible in CI without eating into the core's budget or hiding in it. What an added
// capability must change inside the core counts in the core, and CI's budget (.ci/run) says by how
// much it moved and why.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../libs/zero-trust/src', import.meta.url));
/** Capability folders added after the core budget was set (issue "Continuous access" and later). */
const ADDED = new Set([
  'continuous-access',
  'transports',
  'scale-out',
  'policy',
  'cerbos',
  'inventory',
]);

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

const added = [...byFolder].filter(([folder]) => ADDED.has(folder));
const core = total - added.reduce((sum, [, lines]) => sum + lines, 0);
console.log(`library source without specs: ${total} lines in ${files} files`);
console.log(`core (the budgeted capabilities): ${core} lines`);
for (const [folder, lines] of [...byFolder].sort((a, b) => b[1] - a[1])) {
  if (!ADDED.has(folder)) console.log(`  ${folder.padEnd(18)} ${String(lines).padStart(6)}`);
}
for (const [folder, lines] of added) console.log(`added capability ${folder}: ${lines} lines`);
const at = process.argv.indexOf('--max');
if (at !== -1) {
  const max = Number(process.argv[at + 1]);
  if (!Number.isFinite(max)) {
    console.error('--max needs a number');
    process.exit(2);
  }
  if (core > max) {
    console.error(`the core is over the budget of ${max} lines by ${core - max}`);
    process.exit(1);
  }
}
