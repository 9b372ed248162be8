// Smoke test of the one-command demo, run by CI after the build: starts `scripts/demo.js` on
// free loopback ports, gets tokens with the demo CLI (code + PKCE for a user, client credentials
// for a service), calls the API, and stops the demo. Exits non-zero on any surprise.
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const idpPort = await freePort();
const apiPort = await freePort();
const env = {
  ...process.env,
  IDP_PORT: String(idpPort),
  API_PORT: String(apiPort),
  IDP_URL: `http://127.0.0.1:${idpPort}`,
};
const demo = spawn(process.execPath, ['scripts/demo.js'], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
demo.stdout.on('data', (chunk) => (output += chunk.toString()));

const deadline = Date.now() + 30_000;
while (!output.includes('Demo running.')) {
  if (Date.now() > deadline || demo.exitCode !== null) {
    console.error(output);
    throw new Error('the demo did not start');
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}

async function token(who) {
  const { stdout } = await run(process.execPath, ['apps/identity/dist/cli/token.js', who], { env });
  return stdout.trim();
}

async function get(path, bearer) {
  const response = await fetch(`http://127.0.0.1:${apiPort}${path}`, {
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
  return { status: response.status, body: await response.json() };
}

const checks = [];
try {
  const bob = await token('bob');
  const worker = await token('billing-worker');
  const list = await get('/invoices', bob);
  checks.push([
    'bob lists his invoices',
    list.status === 200 && list.body.map((i) => i.id).join() === 'inv-1,inv-3',
  ]);
  checks.push(['bob is refused inv-2', (await get('/invoices/inv-2', bob)).status === 403]);
  checks.push(['no token is 401', (await get('/invoices')).status === 401]);
  checks.push([
    'billing-worker cannot list invoices',
    (await get('/invoices', worker)).status === 403,
  ]);
  checks.push(['health is public', (await get('/health')).status === 200]);
} finally {
  demo.kill('SIGINT');
}
await new Promise((resolve) => demo.once('exit', resolve));
for (const [name, ok] of checks) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
const failed = checks.filter(([, ok]) => !ok).length;
console.log(
  failed === 0
    ? `demo smoke ok (${checks.length} checks)`
    : `demo smoke FAILED (${failed} of ${checks.length} checks)`,
);
process.exit(failed === 0 && checks.length > 0 ? 0 : 1);
