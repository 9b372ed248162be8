import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderDemoMatrix } from './permission-matrix.js';

describe('the committed permission matrix', () => {
  it('matches the policy (after a policy change, run `npm run matrix` and review the diff)', async () => {
    const committed = await readFile(
      new URL('../../../docs/permission-matrix.md', import.meta.url),
      'utf8',
    );
    expect(
      await renderDemoMatrix(),
      'docs/permission-matrix.md is out of date: run `npm run matrix`',
    ).toBe(committed);
  });
});
