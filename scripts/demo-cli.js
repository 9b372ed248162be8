// Runs a command-line tool of the demo identity provider (`npm run demo:token`, `demo:admin`):
//   node scripts/demo-cli.js token|admin [arguments of the tool]
// It builds the library and the IdP first only when their dist is missing or older than their
// sources (a check of file times, a few milliseconds), not at every call. The build's output goes
// to stderr, so `TOKEN=$(npm run -s demo:token -- alice)` still captures the token alone.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const TOOLS = { token: 'demo:token', admin: 'demo:admin' };
const [tool, ...args] = process.argv.slice(2);
if (!Object.hasOwn(TOOLS, tool ?? '')) {
  console.error('usage: node scripts/demo-cli.js token|admin [arguments]');
  process.exit(2);
}

/** The newest modification time (ms) of the TypeScript sources under `dir`, specs excluded. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const mtime = (path) => statSync(join(root, path), { throwIfNoEntry: false })?.mtimeMs;

// Each project tsc builds for the tool, with the build info tsc -b rewrites at each build.
const projects = [
  {
    src: 'libs/zero-trust/src',
    config: 'libs/zero-trust/tsconfig.lib.json',
    info: 'libs/zero-trust/.tsbuildinfo',
  },
  {
    src: 'apps/identity/src',
    config: 'apps/identity/tsconfig.app.json',
    info: 'apps/identity/dist/.tsbuildinfo',
  },
];
const stale = projects.filter(({ src, config, info }) => {
  const built = mtime(info);
  if (built === undefined || mtime(`apps/identity/dist/cli/${tool}.js`) === undefined) return true;
  const inputs = [newestSource(join(root, src)), mtime(config), mtime('tsconfig.base.json')];
  return inputs.some((time) => time !== undefined && time > built);
});
if (stale.length > 0) {
  console.error(
    `${TOOLS[tool]}: building ${stale.map((p) => p.src.split('/src')[0]).join(' and ')} (dist missing or older than the sources)…`,
  );
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-b', 'apps/identity/tsconfig.app.json'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
  });
  if (build.status !== 0) {
    console.error(`${TOOLS[tool]}: the build failed; run \`npm run build\` to see why`);
    process.exit(1);
  }
}

const child = spawn(process.execPath, [join(root, `apps/identity/dist/cli/${tool}.js`), ...args], {
  stdio: 'inherit',
});
// Ctrl-C reaches the tool with the terminal's process group; a SIGTERM of this process alone is passed on.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
