import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientCredentials, loginWithPassword } from '../../apps/identity/src/client.js';
import {
  startIdentityProvider,
  type RunningIdentityProvider,
} from '../../apps/identity/src/identity-provider.js';

/** The real demo IdP on a random port with a throw-away key folder. */
export interface TestIdentityProvider extends RunningIdentityProvider {
  /** An access token for a demo user, through the authorization code + PKCE flow. */
  userToken(username: 'alice' | 'bob' | 'carol'): Promise<string>;
  /** An access token for a demo service, through client credentials. */
  serviceToken(clientId: 'billing-worker' | 'reporting-service'): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the demo IdP for a test file. */
export async function startTestIdentityProvider(): Promise<TestIdentityProvider> {
  const dataDir = await mkdtemp(join(tmpdir(), 'zt-idp-'));
  const idp = await startIdentityProvider({ port: 0, dataDir, quiet: true });
  return {
    ...idp,
    userToken: async (username) =>
      (await loginWithPassword({ issuer: idp.issuer, username, password: username })).access_token,
    serviceToken: async (clientId) =>
      (
        await clientCredentials({
          issuer: idp.issuer,
          clientId,
          clientSecret: `${clientId}-secret`,
        })
      ).access_token,
    stop: async () => {
      await idp.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
