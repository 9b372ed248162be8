// Starts the demo: the OpenID Connect provider, then the invoicing API, each in its own
// process, with prefixed output. Ctrl-C stops both. Run through `npm run demo` (it builds first).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const idpPort = process.env.IDP_PORT ?? '4000';
const apiPort = process.env.API_PORT ?? '3000';
const issuer = process.env.IDP_URL ?? `http://127.0.0.1:${idpPort}`;
const children = [];

function start(name, script, env) {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (stream, out) =>
    stream.on('data', (chunk) => {
      for (const line of chunk.toString().split('\n'))
        if (line.length > 0) out.write(`[${name}] ${line}\n`);
    });
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

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

start('identity', 'apps/identity/dist/main.js', { IDP_PORT: idpPort });
try {
  await waitFor(`${issuer}/.well-known/openid-configuration`, 20_000);
  start('demo-api', 'apps/demo-api/dist/main.js', { API_PORT: apiPort, IDP_URL: issuer });
  await waitFor(`http://127.0.0.1:${apiPort}/health`, 20_000);
} catch (error) {
  console.error(`[demo] ${error.message}`);
  stop(1);
}
if (!stopping) {
  console.log(`
  Demo running.
    Identity provider (issuer): ${issuer}
    Invoicing API:              http://127.0.0.1:${apiPort}

  Get a token in another terminal (users alice, bob, carol; password = user name):
    TOKEN=$(npm run -s demo:token -- alice)
    curl -s http://127.0.0.1:${apiPort}/invoices -H "Authorization: Bearer $TOKEN"

  A service token (client credentials):
    curl -s -u billing-worker:billing-worker-secret -d grant_type=client_credentials \\
      -d resource=https://invoices.demo.local ${issuer}/token

  Ctrl-C stops the demo.
`);
}
