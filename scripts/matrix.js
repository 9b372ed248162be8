// Renders the demo's permission matrix from its real ability definitions into
// docs/permission-matrix.md (run through `npm run matrix`, which builds first).
// `--check` only compares and exits 1 when the committed file is out of date.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { renderDemoMatrix } from '../apps/demo-api/dist/permission-matrix.js';

const target = new URL('../docs/permission-matrix.md', import.meta.url);
const markdown = await renderDemoMatrix();
if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== markdown) {
    console.error('docs/permission-matrix.md is out of date: run `npm run matrix`');
    process.exit(1);
  }
  console.log('docs/permission-matrix.md is up to date');
} else {
  await mkdir(new URL('.', target), { recursive: true });
  await writeFile(target, markdown);
  console.log(markdown);
}
