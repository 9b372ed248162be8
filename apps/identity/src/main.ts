/**
 * Runs the demo identity provider until SIGINT/SIGTERM.
 *
 * Environment: `IDP_PORT` (default 4000), `IDP_MTLS_PORT` (the mutual-TLS token endpoint,
 * default 4443), `IDP_HOST` (default 127.0.0.1), `IDP_DATA_DIR` (default `apps/identity/.data`).
 *
 * @packageDocumentation
 */
import { DEMO_MTLS_SERVICE_CLIENTS, DEMO_SERVICE_CLIENTS } from './constants.js';
import { startIdentityProvider, type RunningIdentityProvider } from './identity-provider.js';
import { DEMO_USERNAMES } from './users.js';

function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65_535) {
    throw new Error(`Ports must be integers from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return port;
}

let idp: RunningIdentityProvider;
try {
  idp = await startIdentityProvider({
    port: parsePort(process.env.IDP_PORT, 4000),
    mtlsPort: parsePort(process.env.IDP_MTLS_PORT, 4443),
    host: process.env.IDP_HOST?.trim() || undefined,
    dataDir: process.env.IDP_DATA_DIR?.trim() || undefined,
  });
} catch (error) {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  console.error(
    code === 'EADDRINUSE'
      ? `Cannot start the identity provider: the port is already in use (${message}). Set IDP_PORT to another port.`
      : `Cannot start the identity provider: ${message}`,
  );
  process.exit(1);
}

console.log(`Demo identity provider listening at ${idp.issuer}`);
console.log(`  discovery: ${idp.issuer}/.well-known/openid-configuration`);
console.log(`  users:     ${DEMO_USERNAMES.join(', ')} (password = user name)`);
console.log(`  services:  ${Object.keys(DEMO_SERVICE_CLIENTS).join(', ')} (client credentials)`);
console.log(`  mTLS:      ${idp.mtlsTokenEndpoint} (${DEMO_MTLS_SERVICE_CLIENTS.join(', ')})`);
console.log(`  token:     IDP_URL=${idp.issuer} npm run -s demo:token -- alice`);

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) {
    console.error(`Received ${signal} again, exiting now.`);
    process.exit(1);
  }
  stopping = true;
  console.log(`Received ${signal}, shutting down.`);
  idp.close().then(
    () => {
      process.exitCode = 0;
    },
    (error: unknown) => {
      console.error('Error while shutting down:', error);
      process.exitCode = 1;
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
