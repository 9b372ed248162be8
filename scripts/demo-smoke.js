// Smoke test of the one-command demo, run by CI after the build: starts `scripts/demo.js` on
// free loopback ports, gets tokens with the demo CLI (code + PKCE for a user, client credentials
// for a service, a certificate-bound token over mTLS), calls the API, waits for the billing
// worker's calls over mTLS, and stops the demo. Exits non-zero on any surprise.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

const idpPort = await freePort();
const apiPort = await freePort();
const env = {
  ...process.env,
  IDP_PORT: String(idpPort),
  IDP_MTLS_PORT: String(await freePort()),
  API_PORT: String(apiPort),
  API_MTLS_PORT: String(await freePort()),
  BILLING_INTERVAL_MS: '500',
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
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // the metrics exposition is text
  }
  return { status: response.status, body };
}

/** `promtool check metrics` on a scrape; skipped with a notice without promtool, unless CI=true. */
async function promtoolAccepts(exposition) {
  const found = await run('sh', ['-c', 'command -v promtool']).catch(() => undefined);
  if (found === undefined) {
    if (process.env.CI === 'true') throw new Error('promtool is required when CI=true');
    console.log('notice: promtool not found; skipping `promtool check metrics`');
    return true;
  }
  const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let report = '';
  child.stdout.on('data', (chunk) => (report += chunk));
  child.stderr.on('data', (chunk) => (report += chunk));
  child.stdin.end(exposition);
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) console.error(report);
  return code === 0;
}

const checks = [];
try {
  const bob = await token('bob');
  const reporting = await token('reporting-service');
  const worker = await token('billing-worker');
  const claims = JSON.parse(Buffer.from(worker.split('.')[1], 'base64url').toString());
  checks.push([
    'billing-worker gets a certificate-bound token over mTLS',
    typeof claims.cnf?.['x5t#S256'] === 'string',
  ]);
  const list = await get('/invoices', bob);
  checks.push([
    'bob lists his invoices',
    list.status === 200 && list.body.map((i) => i.id).join() === 'inv-1,inv-3',
  ]);
  checks.push(['bob is refused inv-2', (await get('/invoices/inv-2', bob)).status === 403]);
  checks.push(['no token is 401', (await get('/invoices')).status === 401]);
  checks.push([
    'reporting-service cannot list invoices',
    (await get('/invoices', reporting)).status === 403,
  ]);
  checks.push(['health is public', (await get('/health')).status === 200]);
  const workerDeadline = Date.now() + 20_000;
  const paid = () =>
    output.includes('POST /payments -> 201') && output.includes('PATCH /invoices/inv-2 -> 200');
  while (!paid() && Date.now() < workerDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  checks.push(['billing-worker records payments and sets a status over mTLS', paid()]);
  checks.push(['liveness is public', (await get('/health/live')).status === 200]);
  checks.push(['metrics refuse anonymous callers', (await get('/metrics')).status === 401]);
  checks.push(['metrics refuse a user', (await get('/metrics', bob)).status === 403]);
  const scrape = await get('/metrics', await token('metrics-scraper'));
  checks.push([
    'metrics-scraper scrapes the metrics',
    scrape.status === 200 &&
      scrape.body.includes('zero_trust_authorization_decisions_total{decision="deny"'),
  ]);
  checks.push(['promtool check metrics accepts the scrape', await promtoolAccepts(scrape.body)]);
  // The audit trail: ECS events on stdout (nestjs-pino), never a token.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const events = output
    .split('\n')
    .filter((line) => line.startsWith('[demo-api] {'))
    .map((line) => JSON.parse(line.slice('[demo-api] '.length)))
    .filter((line) => line.ecs !== undefined);
  checks.push([
    'denials reach the audit log as ECS events',
    events.some((e) => e.event.action === 'authz_fail' && e.user?.id === 'bob'),
  ]);
  const signature = bob.split('.')[2];
  checks.push(['no token in the logs', !output.includes(signature)]);
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
