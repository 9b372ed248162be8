/**
 * Runs the demo identity provider until SIGINT/SIGTERM.
 *
 * Environment: `IDP_PORT` (default 4000), `IDP_MTLS_PORT` (the mutual-TLS token endpoint,
 * default 4443), `IDP_HOST` (default 127.0.0.1), `IDP_DATA_DIR` (default `apps/identity/.data`).
 *
 * Continuous access (issue 19), each off unless set:
 * - `IDP_BACKCHANNEL_LOGOUT_URI`: `demo-cli`'s `backchannel_logout_uri` (logout tokens with
 *   `sid`; its access tokens then carry `sid`);
 * - `IDP_SSF_ENDPOINT`, `IDP_SSF_AUTHORIZATION`, `IDP_SSF_AUDIENCE` (all three, or none): where
 *   CAEP Security Event Tokens are pushed (RFC 8935), the `Authorization` header value sent with
 *   them, and their `aud`;
 * - `IDP_ADMIN_SECRET`: password of the admin interface (`admin:<secret>`, HTTP Basic); default
 *   `demo-admin-secret`, an empty value turns the admin routes off.
 *
 * @packageDocumentation
 */
import { DEMO_ADMIN_SECRET, DEMO_MTLS_SERVICE_CLIENTS, DEMO_SERVICE_CLIENTS } from './constants.js';
import {
  startIdentityProvider,
  type ContinuousAccessOptions,
  type RunningIdentityProvider,
} from './identity-provider.js';
import { DEMO_USERNAMES } from './users.js';

function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65_535) {
    throw new Error(`Ports must be integers from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return port;
}

const env = (name: string): string | undefined => process.env[name]?.trim() || undefined;

function continuousAccessFromEnv(): ContinuousAccessOptions {
  const backchannelLogoutUri = env('IDP_BACKCHANNEL_LOGOUT_URI');
  const ssf = ['IDP_SSF_ENDPOINT', 'IDP_SSF_AUTHORIZATION', 'IDP_SSF_AUDIENCE'] as const;
  const [endpoint, authorization, audience] = ssf.map(env);
  const given = [endpoint, authorization, audience].filter((value) => value !== undefined);
  if (given.length !== 0 && given.length !== ssf.length) {
    throw new Error(`${ssf.join(', ')} must be set together (or none of them)`);
  }
  return {
    ...(backchannelLogoutUri === undefined ? {} : { backchannelLogoutUri }),
    ...(endpoint && authorization && audience
      ? { securityEvents: { endpoint, authorization, audience } }
      : {}),
  };
}

const adminSecret = process.env.IDP_ADMIN_SECRET ?? DEMO_ADMIN_SECRET;
let continuousAccess: ContinuousAccessOptions;
let idp: RunningIdentityProvider;
try {
  continuousAccess = continuousAccessFromEnv();
  idp = await startIdentityProvider({
    port: parsePort(process.env.IDP_PORT, 4000),
    mtlsPort: parsePort(process.env.IDP_MTLS_PORT, 4443),
    host: env('IDP_HOST'),
    dataDir: env('IDP_DATA_DIR'),
    continuousAccess,
    ...(adminSecret === '' ? {} : { adminSecret }),
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
console.log(
  adminSecret === ''
    ? '  admin:     off (IDP_ADMIN_SECRET is empty)'
    : `  admin:     IDP_URL=${idp.issuer} IDP_ADMIN_SECRET=${adminSecret} npm run -s demo:admin -- disable bob`,
);
console.log(
  `  logout:    ${continuousAccess.backchannelLogoutUri ?? 'no back-channel logout (IDP_BACKCHANNEL_LOGOUT_URI)'}`,
);
console.log(
  `  CAEP:      ${continuousAccess.securityEvents ? `SETs pushed to ${continuousAccess.securityEvents.endpoint} (keys ${idp.issuer}/ssf/jwks)` : 'no SETs (IDP_SSF_ENDPOINT, IDP_SSF_AUTHORIZATION, IDP_SSF_AUDIENCE)'}`,
);

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
