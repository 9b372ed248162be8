import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clientCredentials,
  clientCredentialsWithCertificate,
  loginWithPassword,
} from '../../apps/identity/src/client.js';
import { DEMO_TOTP_SECRETS } from '../../apps/identity/src/constants.js';
import {
  startIdentityProvider,
  type IdentityProviderOptions,
  type RunningIdentityProvider,
} from '../../apps/identity/src/identity-provider.js';

/** The real demo IdP on a random port with a throw-away key folder. */
export interface TestIdentityProvider extends RunningIdentityProvider {
  /** The throw-away data directory (signing keys, development PKI). */
  readonly dataDir: string;
  /**
   * An access token for a demo user, through the authorization code + PKCE flow; with `mfa`, the
   * login form also gets the user's one-time code (TOTP from the documented secret).
   */
  userToken(username: 'alice' | 'bob' | 'carol', options?: { mfa?: boolean }): Promise<string>;
  /**
   * An access token for a demo service, through client credentials: `reporting-service` with
   * its secret, `billing-worker` with its certificate (a certificate-bound token).
   */
  serviceToken(
    clientId: 'billing-worker' | 'reporting-service' | 'metrics-scraper',
    resource?: string,
  ): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the demo IdP for a test file (both listeners on free ports). */
export async function startTestIdentityProvider(
  options: Pick<
    IdentityProviderOptions,
    'accessTokenTtlSeconds' | 'continuousAccess' | 'adminSecret'
  > = {},
): Promise<TestIdentityProvider> {
  const dataDir = await mkdtemp(join(tmpdir(), 'zt-idp-'));
  const idp = await startIdentityProvider({
    port: 0,
    mtlsPort: 0,
    dataDir,
    quiet: true,
    ...options,
  });
  return {
    ...idp,
    dataDir,
    userToken: async (username, login = {}) =>
      (
        await loginWithPassword({
          issuer: idp.issuer,
          username,
          password: username,
          ...(login.mfa === true ? { totpSecret: DEMO_TOTP_SECRETS[username] } : {}),
        })
      ).access_token,
    serviceToken: async (clientId, resource) => {
      const request = resource === undefined ? {} : { resource };
      if (clientId === 'billing-worker') {
        const own = idp.pki.workloads['billing-worker'];
        return (
          await clientCredentialsWithCertificate({
            issuer: idp.issuer,
            clientId,
            tls: { key: own.key, cert: own.cert, ca: idp.pki.caCert },
            ...request,
          })
        ).access_token;
      }
      return (
        await clientCredentials({
          issuer: idp.issuer,
          clientId,
          clientSecret: `${clientId}-secret`,
          ...request,
        })
      ).access_token;
    },
    stop: async () => {
      await idp.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The TLS settings a demo workload uses on the API's mutual-TLS listener: its own key and
 * certificate, and the development CA (billing-worker's tokens are bound to that certificate).
 */
export function workloadTls(
  idp: TestIdentityProvider,
  name: 'billing-worker' | 'reporting-service' = 'billing-worker',
): { key: string; cert: string; ca: string } {
  const own = idp.pki.workloads[name];
  return { key: own.key, cert: own.cert, ca: idp.pki.caCert };
}
