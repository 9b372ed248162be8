// Starts the demo: the OpenID Connect provider, then the invoicing API, then the billing worker,
// each in its own process, with prefixed output. Ctrl-C stops them all. Run through `npm run demo` (it builds first).
//
// Quiet by default: the billing worker's rounds (its polls, the API's records of them) and the
// framework's start-up lines are not shown; its payments, warnings and errors are.
// `npm run demo -- --verbose` (or DEMO_VERBOSE=1) shows every line.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const verbose =
  process.argv.includes('--verbose') ||
  process.argv.includes('-v') ||
  process.env.DEMO_VERBOSE === '1';
const DEFAULT_ISSUER = 'http://127.0.0.1:4000';
const idpPort = process.env.IDP_PORT ?? '4000';
const apiPort = process.env.API_PORT ?? '3000';
const idpMtlsPort = process.env.IDP_MTLS_PORT ?? '4443';
const apiMtlsPort = process.env.API_MTLS_PORT ?? '3443';
const billingInterval = process.env.BILLING_INTERVAL_MS ?? '10000';
const issuer = process.env.IDP_URL ?? `http://127.0.0.1:${idpPort}`;
const children = [];

function start(name, script, env) {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (stream, out) => {
    const write = (line) => {
      // The IdP prefixes its own lines with [identity]: one prefix is enough.
      const own = line.startsWith(`[${name}] `) ? line.slice(name.length + 3) : line;
      if (own.length > 0 && (verbose || shown(name, own))) out.write(`[${name}] ${own}\n`);
    };
    // Whole lines only: a chunk may end in the middle of one.
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      lines.forEach(write);
    });
    stream.on('end', () => write(rest));
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[demo] ${name} exited (${signal ?? code}); stopping the demo`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

// Nest's start-up lines (module by module, route by route): the [ZeroTrust] route report says more.
const NEST_BOOT = /\[(NestFactory|InstanceLoader|RoutesResolver|RouterExplorer|NestApplication)\]/;
// The billing worker's poll, every BILLING_INTERVAL_MS: `GET /invoices -> 200`.
const WORKER_POLL = /\bGET \/invoices -> 200\b/;

/** Whether the quiet demo shows a child's line. */
function shown(name, line) {
  const text = stripVTControlCharacters(line);
  if (NEST_BOOT.test(text)) return false;
  if (name === 'billing-worker') return !WORKER_POLL.test(text);
  if (name === 'demo-api' && text.startsWith('{')) {
    // The API's decision records of the worker's allowed calls; its refusals stay.
    try {
      const record = JSON.parse(text);
      return !(record.service?.name === 'billing-worker' && record.labels?.decision === 'allow');
    } catch {
      return true;
    }
  }
  return true;
}

async function waitFor(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

// POLICY_ENGINE=cerbos: a Cerbos PDP (from the @cerbos/cerbos-linux-x64 package) with the demo's
// policies decides every @Can of the API, unless CERBOS_GRPC names one already running.
let pdp;
if (process.env.POLICY_ENGINE === 'cerbos' && !process.env.CERBOS_GRPC) {
  const { startCerbosPdp } = await import('../libs/zero-trust/dist/cerbos/cerbos-pdp.js');
  const [from = 0, to = 0] = (process.env.REPORTS_WINDOW_UTC ?? '00:00-00:00')
    .split('-')
    .map((hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5)));
  pdp = await startCerbosPdp({
    policies: fileURLToPath(new URL('../apps/demo-api/cerbos/policies', import.meta.url)),
    globals: { reportsFrom: from, reportsTo: to },
  });
  process.env.CERBOS_GRPC = pdp.grpc;
  console.log(`[cerbos] PDP on ${pdp.grpc} (gRPC), ${pdp.http} (HTTP)`);
}

let stopping = false;
function stop(code = 0) {
  stopping = true;
  void pdp?.stop();
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

// Development secrets shared by the IdP and the API (set both in any real setup).
const pushAuthorization = process.env.SSF_PUSH_AUTHORIZATION ?? 'Bearer demo-ssf-push-secret';
const adminSecret = process.env.IDP_ADMIN_SECRET ?? 'demo-admin-secret';
const api = `http://127.0.0.1:${apiPort}`;
start('identity', 'apps/identity/dist/main.js', {
  IDP_PORT: idpPort,
  IDP_MTLS_PORT: idpMtlsPort,
  // The IdP tells the API when a session ends: a logout token, and CAEP security events.
  IDP_BACKCHANNEL_LOGOUT_URI: `${api}/oidc/backchannel-logout`,
  IDP_SSF_ENDPOINT: `${api}/ssf/events`,
  IDP_SSF_AUTHORIZATION: pushAuthorization,
  IDP_SSF_AUDIENCE: 'https://invoices.demo.local/ssf',
  IDP_ADMIN_SECRET: adminSecret,
});
try {
  await waitFor(`${issuer}/.well-known/openid-configuration`, 20_000);
  start('demo-api', 'apps/demo-api/dist/main.js', {
    API_PORT: apiPort,
    API_MTLS_PORT: apiMtlsPort,
    IDP_URL: issuer,
    SSF_PUSH_AUTHORIZATION: pushAuthorization,
    IDP_ADMIN_SECRET: adminSecret,
  });
  await waitFor(`http://127.0.0.1:${apiPort}/health`, 20_000);
  start('billing-worker', 'apps/billing-worker/dist/main.js', {
    IDP_URL: issuer,
    API_MTLS_URL: `https://127.0.0.1:${apiMtlsPort}`,
    BILLING_INTERVAL_MS: billingInterval,
  });
} catch (error) {
  console.error(`[demo] ${error.message}`);
  stop(1);
}
// The commands of the banner, runnable as printed: the CLI needs IDP_URL when the IdP is not on
// its default address, and the dev PKI's directory when it is not the default one.
const cliEnv = [
  issuer === DEFAULT_ISSUER ? '' : `IDP_URL=${issuer} `,
  process.env.IDP_DATA_DIR ? `IDP_DATA_DIR=${process.env.IDP_DATA_DIR} ` : '',
].join('');
const workerLines = verbose
  ? 'over mTLS with its certificate-bound token (see [billing-worker])'
  : 'over mTLS (its payments are shown; every call with --verbose)';
if (!stopping) {
  console.log(`
  Demo running.
    Identity provider (issuer): ${issuer}  (mTLS token endpoint https://127.0.0.1:${idpMtlsPort}/token)
    Invoicing API:              http://127.0.0.1:${apiPort}  (policy engine: ${process.env.POLICY_ENGINE === 'cerbos' ? `Cerbos at ${process.env.CERBOS_GRPC}` : 'CASL'})
      internal callers (mTLS):  https://127.0.0.1:${apiMtlsPort}  (client certificates of the dev CA)
    Billing worker:             pays the issued invoices (payment, then status paid) every ${billingInterval} ms
                                ${workerLines}
    GraphQL:                    POST http://127.0.0.1:${apiPort}/graphql (same policies as the REST routes)
    NATS (payment.recorded):    ${process.env.NATS_URL ? `the worker announces each payment at ${process.env.NATS_URL}` : 'off (set NATS_URL=nats://127.0.0.1:4222 to announce payments over NATS)'}

  Get a token in another terminal (users alice, bob, carol; password = user name):
    TOKEN=$(${cliEnv}npm run -s demo:token -- alice)
    curl -s http://127.0.0.1:${apiPort}/invoices -H "Authorization: Bearer $TOKEN"

  The same list over GraphQL:
    curl -s http://127.0.0.1:${apiPort}/graphql -H "Authorization: Bearer $TOKEN" \
      -H 'content-type: application/json' -d '{"query":"{ invoices { id status amount } }"}'

  A service token (client credentials with a secret):
    curl -s -u reporting-service:reporting-service-secret -d grant_type=client_credentials \\
      -d resource=https://invoices.demo.local ${issuer}/token

  billing-worker's certificate-bound token (tls_client_auth; the dev PKI is in apps/identity/.data/pki):
    ${cliEnv}npm run -s demo:token -- billing-worker

  Ctrl-C stops the demo.
`);
}
