#!/usr/bin/env node
// CI: what `npm publish` would ship. Packs libs/zero-trust, checks the tarball's contents and
// manifest, then installs it into two fresh Nest 12 applications outside the workspace (one ES
// module, one CommonJS), builds each with `skipLibCheck: false`, boots it and calls its routes
// (test/package/main.ts), then runs the package's bin on it (`nestjs-zero-trust routes`,
// test/package/inventory.ts). Usage: node scripts/package-check.js [--keep]
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LIBRARY = join(ROOT, 'libs/zero-trust');
const keep = process.argv.includes('--keep');
const problems = [];

/** Runs a command, its output shown only when it fails. */
function run(command, args, cwd) {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe', timeout: 300_000 });
  } catch (error) {
    process.stderr.write(`${error.stdout ?? ''}${error.stderr ?? ''}`);
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}`, { cause: error });
  }
}

const work = mkdtempSync(join(tmpdir(), 'zt-package-'));
try {
  // 1. The tarball: JavaScript and declarations, the README, LICENSE and CHANGELOG; nothing else.
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], LIBRARY));
  const files = packed.files.map((file) => file.path);
  const allowed = /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/.+\.(js|d\.ts))$/;
  for (const file of files.filter((f) => !allowed.test(f) || /\.spec\./.test(f)))
    problems.push(`the tarball holds ${file}`);
  for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts'])
    if (!files.includes(file)) problems.push(`the tarball lacks ${file}`);
  const manifest = JSON.parse(readFileSync(join(LIBRARY, 'package.json'), 'utf8'));
  for (const field of ['repository', 'homepage', 'bugs', 'keywords', 'sideEffects', 'engines'])
    if (manifest[field] === undefined) problems.push(`package.json has no "${field}"`);
  for (const [entry, target] of Object.entries(manifest.exports)) {
    if (typeof target === 'string') continue;
    for (const condition of ['types', 'import', 'default']) {
      const path = target[condition]?.replace(/^\.\//, '');
      if (path === undefined) problems.push(`export "${entry}" has no "${condition}" condition`);
      else if (!files.includes(path)) problems.push(`export "${entry}" points at missing ${path}`);
    }
  }
  console.log(`${packed.filename}: ${files.length} files, ${packed.size} bytes packed`);

  // 2. Two fresh applications, with the workspace's versions of what they need.
  const version = (name) =>
    JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  const dependencies = Object.fromEntries(
    [
      '@casl/ability',
      '@nestjs/common',
      '@nestjs/core',
      '@nestjs/passport',
      '@nestjs/platform-express',
      'prom-client',
      'reflect-metadata',
      'rxjs',
    ].map((name) => [name, version(name)]),
  );
  for (const type of ['module', 'commonjs']) {
    const app = join(work, type === 'module' ? 'esm-app' : 'cjs-app');
    mkdirSync(join(app, 'src'), { recursive: true });
    for (const file of ['main.ts', 'inventory.ts'])
      cpSync(join(ROOT, 'test/package', file), join(app, 'src', file));
    const pkg = {
      name: `zero-trust-${type}-app`,
      private: true,
      type,
      dependencies: { ...dependencies, 'nestjs-zero-trust': `file:../${packed.filename}` },
      devDependencies: { typescript: version('typescript'), '@types/node': version('@types/node') },
    };
    writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
    const compilerOptions = {
      target: 'ES2023',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      skipLibCheck: false,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      types: ['node'],
      outDir: 'dist',
      rootDir: 'src',
    };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions }, null, 2));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
    run(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], app);
    const compiled = readFileSync(join(app, 'dist/main.js'), 'utf8');
    if (type === 'commonjs' && !compiled.includes('require("nestjs-zero-trust")'))
      problems.push('the CommonJS app was not compiled to require() the library');
    const seen = run(process.execPath, ['dist/main.js'], app).trim().split('\n').at(-1);
    console.log(`${type} app (skipLibCheck: false, ${process.version}): ${seen}`);
    // The package's bin, as npx finds it in the app: the route inventory of the built module.
    const bin = join(app, 'node_modules/.bin/nestjs-zero-trust');
    const inventory = JSON.parse(
      run(bin, ['routes', '--module', 'dist/inventory.js', '--json'], app),
    );
    const routes = inventory.routes.map((r) => `${r.method} ${r.path} ${r.policy.checks.length}`);
    if (routes.join(', ') !== 'GET /health 0, GET /invoices 1')
      problems.push(`${type} app: npx nestjs-zero-trust routes listed ${routes.join(', ')}`);
    else console.log(`${type} app: npx nestjs-zero-trust routes listed ${routes.length} routes`);
  }
} catch (error) {
  problems.push(error instanceof Error ? error.message : String(error));
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
if (problems.length > 0) {
  console.error(`package check failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('package check passed');
