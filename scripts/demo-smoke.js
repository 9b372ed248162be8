// Smoke test of the one-command demo, run by CI after the build: starts `scripts/demo.js` on
// free loopback ports, gets tokens with the demo CLI (code + PKCE for a user, client credentials
// for a service, a certificate-bound token over mTLS), calls the API, waits for the billing
// worker's calls over mTLS, and stops the demo. Exits non-zero on any surprise.
import { execFile, spawn } from 'node:child_process';
import { promisify, stripVTControlCharacters } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/** Starts `scripts/demo.js` with `args` on free loopback ports; resolves once its banner is out. */
async function startDemo(args = []) {
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
  delete env.DEMO_VERBOSE;
  const child = spawn(process.execPath, ['scripts/demo.js', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const demo = { child, env, idpPort, apiPort, output: '' };
  child.stdout.on('data', (chunk) => (demo.output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!demo.output.includes('Ctrl-C stops the demo.')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      console.error(demo.output);
      throw new Error('the demo did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return demo;
}

async function stopDemo(demo) {
  if (demo.child.exitCode !== null) return;
  const exited = new Promise((resolve) => demo.child.once('exit', resolve));
  demo.child.kill('SIGINT');
  await exited;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Quiet by default: the run a newcomer gets with `npm run demo`.
const demo = await startDemo();
const { env, idpPort, apiPort } = demo;
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
    demo.output.includes('POST /payments -> 201') &&
    demo.output.includes('PATCH /invoices/inv-2 -> 200');
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
  const events = demo.output
    .split('\n')
    .filter((line) => line.startsWith('[demo-api] {'))
    .map((line) => JSON.parse(line.slice('[demo-api] '.length)))
    .filter((line) => line.ecs !== undefined);
  checks.push([
    'denials reach the audit log as ECS events',
    events.some((e) => e.event.action === 'authz_fail' && e.user?.id === 'bob'),
  ]);
  const signature = bob.split('.')[2];
  checks.push(['no token in the logs', !demo.output.includes(signature)]);

  // The banner's commands are right for the ports in use: run them as printed, in a shell
  // without IDP_URL (a newcomer's second terminal).
  const issuer = `http://127.0.0.1:${idpPort}`;
  const userLines = [
    `TOKEN=$(IDP_URL=${issuer} npm run -s demo:token -- alice)`,
    `curl -s http://127.0.0.1:${apiPort}/invoices -H "Authorization: Bearer $TOKEN"`,
  ];
  checks.push([
    'the banner names the ports in use',
    [
      ...userLines,
      `IDP_URL=${issuer} npm run -s demo:token -- billing-worker`,
      `${issuer}/token`,
    ].every((line) => demo.output.includes(line)),
  ]);
  const { IDP_URL: _, ...shellEnv } = env;
  const asPrinted = await run('sh', ['-c', userLines.join('\n')], { env: shellEnv }).catch(
    (error) => ({ stdout: String(error.stderr ?? error) }),
  );
  let listed = [];
  try {
    listed = JSON.parse(asPrinted.stdout).map((i) => i.id);
  } catch {
    console.error(asPrinted.stdout);
  }
  checks.push([
    "the banner's token and curl commands work as printed",
    listed.join() === 'inv-1,inv-2,inv-3',
  ]);
  checks.push([
    'demo:token does not rebuild an up-to-date dist',
    !String(asPrinted.stderr).includes('building'),
  ]);
  checks.push([
    'no doubled prefix ([identity] [identity] …)',
    !/^\[([a-z-]+)\] .*\[\1\]/m.test(stripVTControlCharacters(demo.output)),
  ]);

  // Quiet: over five seconds (ten rounds of the worker) the terminal gets next to nothing. The
  // worker's activity is read from the API's counters, not from the terminal.
  const reads = async () => {
    const text = (await get('/metrics', await token('metrics-scraper'))).body;
    const line = /^zero_trust_authorization_decisions_total\{[^}]*\} .*$/gm;
    return (text.match(line) ?? [])
      .filter((l) => l.includes('decision="allow"') && l.includes('subject="Invoice"'))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
  };
  const before = await reads();
  await sleep(300); // the scrape's own decision record
  const mark = demo.output.length;
  await sleep(5_000);
  const during = demo.output
    .slice(mark)
    .split('\n')
    .filter((l) => l.length > 0 && !l.includes('"name":"metrics-scraper"'));
  const rounds = (await reads()) - before;
  if (during.length > 2) console.error(during.join('\n'));
  checks.push([
    `quiet by default: ${during.length} lines while the worker made ${rounds} allowed reads`,
    rounds >= 3 && during.length <= 2,
  ]);
} finally {
  await stopDemo(demo);
}

// --verbose shows the worker's every call and the framework's start-up lines.
const loud = await startDemo(['--verbose']);
try {
  const polls = () =>
    (loud.output.match(/\[billing-worker\] .*GET \/invoices -> 200/g) ?? []).length;
  const deadline = Date.now() + 20_000;
  while (polls() < 3 && Date.now() < deadline) await sleep(100);
  checks.push(['--verbose shows the billing worker polling', polls() >= 3]);
  checks.push(["--verbose shows Nest's start-up lines", loud.output.includes('[InstanceLoader]')]);
} finally {
  await stopDemo(loud);
}
for (const [name, ok] of checks) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
const failed = checks.filter(([, ok]) => !ok).length;
console.log(
  failed === 0
    ? `demo smoke ok (${checks.length} checks)`
    : `demo smoke FAILED (${failed} of ${checks.length} checks)`,
);
process.exit(failed === 0 && checks.length > 0 ? 0 : 1);
