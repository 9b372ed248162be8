import { decodeJwt } from 'jose';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SessionRefresher,
  SessionRevokedError,
  type SessionRefresherOptions,
  type TokenEndpointResponse,
} from 'nestjs-zero-trust/client';
import { TokenRequestError, ZeroTrustConfigurationError } from 'nestjs-zero-trust';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loginWithPassword, refreshTokens } from '../apps/identity/src/client.js';
import { DEMO_CLI_CLIENT_ID } from '../apps/identity/src/constants.js';
import { startTestIdentityProvider, type TestIdentityProvider } from './support/identity.js';

describe('SessionRefresher against the demo IdP (rotating refresh tokens)', () => {
  let idp: TestIdentityProvider;
  const sessions: SessionRefresher[] = [];
  const open = async (
    options: Partial<SessionRefresherOptions> = {},
  ): Promise<{ session: SessionRefresher; login: TokenEndpointResponse }> => {
    const login = await loginWithPassword({
      issuer: idp.issuer,
      username: 'alice',
      password: 'alice',
    });
    const session = new SessionRefresher({
      issuer: idp.issuer,
      clientId: DEMO_CLI_CLIENT_ID,
      tokens: { ...login, refresh_token: login.refresh_token ?? '' },
      ...options,
    });
    sessions.push(session);
    return { session, login };
  };

  beforeAll(async () => {
    idp = await startTestIdentityProvider({ accessTokenTtlSeconds: 60 });
  });
  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.close()));
    await idp.stop();
  });

  it('keeps the access token while fresh and refreshes ahead of expiry, rotating', async () => {
    let now = Date.now();
    const refreshed: TokenEndpointResponse[] = [];
    const { session, login } = await open({
      refreshSkew: 20,
      clock: () => now,
      onRefresh: (tokens) => refreshed.push(tokens),
    });
    expect(session.refreshAt - now).toBe(40_000);
    now += 39_000;
    expect(await session.getAccessToken()).toBe(login.access_token);
    expect(refreshed).toHaveLength(0);

    now += 2000;
    const next = await session.getAccessToken();
    expect(next).not.toBe(login.access_token);
    expect(decodeJwt(next)).toMatchObject({ sub: 'alice' });
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0]?.refresh_token).toEqual(expect.any(String));
    expect(refreshed[0]?.refresh_token).not.toBe(login.refresh_token);
    expect(session.expiresAt).toBe(now + 60_000);
  });

  it('shares one refresh between concurrent callers', async () => {
    const refreshed: TokenEndpointResponse[] = [];
    const { session } = await open({ onRefresh: (tokens) => refreshed.push(tokens) });
    const results = await Promise.all([session.refresh(), session.refresh(), session.refresh()]);
    expect(refreshed).toHaveLength(1);
    expect(new Set(results.map((tokens) => tokens.access_token)).size).toBe(1);
  });

  it('ends the whole session when a consumed refresh token is replayed', async () => {
    const { session, login } = await open();
    await session.refresh(); // rotates: login.refresh_token is now consumed
    // An attacker replays the stolen, consumed refresh token: the IdP revokes the grant.
    await expect(
      refreshTokens({ issuer: idp.issuer, refreshToken: login.refresh_token ?? '' }),
    ).rejects.toThrow(/invalid_grant/);

    // The legitimate holder's rotated-to refresh token is dead too.
    const error = await session.refresh().catch((caught: unknown) => caught);
    // Typed, and final: the application signs the user in again, the refresher never retries.
    expect(error).toBeInstanceOf(SessionRevokedError);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'ZT_TOKEN_REQUEST_REFUSED', oauthError: 'invalid_grant' });
    expect(session.ended).toBe(true);
    await expect(session.getAccessToken()).rejects.toBe(error);
    await expect(session.refresh()).rejects.toBe(error);
  });

  it('serves the current token while the identity provider is down, until it expires', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    let now = Date.now();
    const session = new SessionRefresher({
      tokenEndpoint: `http://127.0.0.1:${port}/token`,
      clientId: DEMO_CLI_CLIENT_ID,
      tokens: { access_token: 'still-valid', refresh_token: 'r-1', expires_in: 60 },
      refreshSkew: 20,
      clock: () => now,
    });
    sessions.push(session);
    now += 45_000; // due for a refresh, 15 s of validity left
    expect(await session.getAccessToken()).toBe('still-valid');
    expect(session.ended).toBe(false);
    now += 15_000; // expired: nothing valid to serve
    await expect(session.getAccessToken()).rejects.toMatchObject({
      code: 'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
    });
  });

  it('refuses incomplete options at construction', () => {
    expect(
      () =>
        new SessionRefresher({
          clientId: '',
          tokens: {},
        } as unknown as SessionRefresherOptions),
    ).toThrow(ZeroTrustConfigurationError);
  });
});
