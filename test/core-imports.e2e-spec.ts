/**
 * An application that never calls out does not load the outgoing client's HTTP stack: the
 * built root entry is imported in a fresh Node process whose module resolution refuses
 * `undici`, and the core module and the root entry in one that refuses every file of `client/`
 * (the client has its own entry, `nestjs-zero-trust/client`).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDemo } from './support/demo-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = pathToFileURL(`${ROOT}libs/zero-trust/dist/`).href;

/** A resolve hook (registered with `module.register`) refusing what `refused` matches. */
function refusing(refused: string): string {
  const hook = `
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context);
      if (${refused}) throw new Error('refused import of ' + specifier + ' from ' + context.parentURL);
      return resolved;
    }`;
  const register = `import { register } from 'node:module';
    register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  return `data:text/javascript,${encodeURIComponent(register)}`;
}

const NO_UNDICI = refusing(`specifier === 'undici' || specifier.startsWith('undici/')`);
const NO_CLIENT = refusing(`resolved.url.startsWith(${JSON.stringify(`${DIST}client/`)})`);

/** Imports `modules` in a fresh process under `hook`; resolves with its stderr on failure. */
async function importUnder(hook: string, modules: string[]): Promise<string | undefined> {
  const code = modules.map((module) => `await import(${JSON.stringify(module)});`).join('\n');
  try {
    await promisify(execFile)(
      process.execPath,
      ['--import', hook, '--input-type=module', '-e', code],
      { cwd: ROOT, timeout: 30_000 },
    );
    return undefined;
  } catch (error) {
    return (error as { stderr?: string }).stderr ?? String(error);
  }
}

describe('what the core loads', () => {
  beforeAll(buildDemo, 180_000);

  it('the root entry does not load undici (the hook would refuse it)', async () => {
    expect(await importUnder(NO_UNDICI, [`${DIST}index.js`])).toBeUndefined();
    // Control: the hook does refuse undici.
    expect(await importUnder(NO_UNDICI, ['undici'])).toContain('refused import of undici');
  });

  it('ZeroTrustModule and the root entry import nothing of the outgoing client', async () => {
    expect(await importUnder(NO_CLIENT, [`${DIST}zero-trust.module.js`])).toBeUndefined();
    expect(await importUnder(NO_CLIENT, [`${DIST}index.js`])).toBeUndefined();
    // Control: the client's own entry (nestjs-zero-trust/client) is refused.
    expect(await importUnder(NO_CLIENT, [`${DIST}client/index.js`])).toContain('refused import of');
  });
});
