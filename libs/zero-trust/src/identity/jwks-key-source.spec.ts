import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DependencyUnavailableError, InvalidTokenError } from '../errors/zero-trust.error.js';
import { validateOptions } from '../options/validate-options.js';
import { TestIssuer } from '../testing/test-issuer.js';
import { JwksKeySource } from './jwks-key-source.js';

function source(
  issuer: string,
  jwks: { cooldown?: number; maxAge?: number } = {},
  jwksUri?: string,
): JwksKeySource {
  return new JwksKeySource(
    validateOptions({
      issuer,
      audience: 'https://api.test.local',
      jwks,
      ...(jwksUri ? { jwksUri } : {}),
    }),
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('JwksKeySource', () => {
  let issuer: TestIssuer;
  beforeEach(async () => {
    issuer = await TestIssuer.start();
  });
  afterEach(async () => {
    await issuer.close();
  });

  it('discovers the JWKS, imports the keys once and serves lookups from memory', async () => {
    const keys = source(issuer.url);
    const key = await keys.getKey(issuer.kid, 'ES256');
    expect(key.asymmetricKeyType).toBe('ec');
    for (let i = 0; i < 50; i += 1) await keys.getKey(issuer.kid, 'ES256');
    expect(issuer.jwksRequests).toBe(1);
    expect(keys.status()).toMatchObject({ keys: 1, version: 1, fetches: 1 });
  });

  it('binds each key to its algorithm: an ES256 key never verifies RS256 or PS256', async () => {
    const keys = source(issuer.url);
    expect(await codeOf(keys.getKey(issuer.kid, 'RS256'))).toBe('ZT_TOKEN_KEY_UNKNOWN');
    expect(await codeOf(keys.getKey(issuer.kid, 'PS256'))).toBe('ZT_TOKEN_KEY_UNKNOWN');
  });

  it('merges concurrent refetches for unknown kids into one fetch', async () => {
    const keys = source(issuer.url, { cooldown: 0 });
    await keys.getKey(issuer.kid, 'ES256');
    issuer.rotate();
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, () => keys.getKey(issuer.kid, 'ES256')),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(issuer.jwksRequests).toBe(2);
  });

  it('refetches on an unknown kid at most once per cooldown', async () => {
    const keys = source(issuer.url, { cooldown: 60 });
    await keys.getKey(issuer.kid, 'ES256');
    for (let i = 0; i < 10; i += 1) {
      expect(await codeOf(keys.getKey(`random-${i}`, 'ES256'))).toBe('ZT_TOKEN_KEY_UNKNOWN');
    }
    // The first fetch was the boot load, within the cooldown: no refetch at all.
    expect(issuer.jwksRequests).toBe(1);
  });

  it('picks up a rotated key after the cooldown, and stops trusting a removed key', async () => {
    const keys = source(issuer.url, { cooldown: 0 });
    const oldKid = issuer.kid;
    await keys.getKey(oldKid, 'ES256');
    issuer.rotate({ dropOld: true });
    await keys.getKey(issuer.kid, 'ES256');
    expect(await codeOf(keys.getKey(oldKid, 'ES256'))).toBe('ZT_TOKEN_KEY_UNKNOWN');
  });

  it('fails closed with 503 when the key set was never fetched, and recovers', async () => {
    issuer.available = false;
    const keys = source(issuer.url);
    const error = await keys.getKey(issuer.kid, 'ES256').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).getStatus()).toBe(503);
    issuer.available = true;
    await new Promise((r) => setTimeout(r, 1100));
    await expect(keys.getKey(issuer.kid, 'ES256')).resolves.toBeDefined();
  });

  it('keeps serving the last good key set while the issuer is down', async () => {
    const keys = source(issuer.url, { cooldown: 0 });
    await keys.getKey(issuer.kid, 'ES256');
    issuer.available = false;
    expect(await codeOf(keys.getKey('unknown', 'ES256'))).toBe('ZT_TOKEN_KEY_UNKNOWN');
    await expect(keys.getKey(issuer.kid, 'ES256')).resolves.toBeDefined();
  });

  it('fails closed once the key set is older than maxAge with the issuer down, and recovers', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-01T00:00:00Z') });
    try {
      const keys = source(issuer.url, { cooldown: 30, maxAge: 60 });
      const key = await keys.getKey(issuer.kid, 'ES256');
      issuer.available = false;
      vi.setSystemTime(new Date('2026-01-01T00:00:59Z'));
      await expect(keys.getKey(issuer.kid, 'ES256')).resolves.toBe(key);
      expect(keys.isCurrent(key)).toBe(true);
      await keys.refresh().catch(() => undefined); // let the background refresh settle
      vi.setSystemTime(new Date('2026-01-01T00:01:01Z'));
      expect(keys.isCurrent(key)).toBe(false);
      expect(await codeOf(keys.getKey(issuer.kid, 'ES256'))).toBe('ZT_KEYS_UNAVAILABLE');
      // Retries at most once a second while down.
      const fetches = keys.status().fetches;
      expect(await codeOf(keys.getKey(issuer.kid, 'ES256'))).toBe('ZT_KEYS_UNAVAILABLE');
      expect(keys.status().fetches).toBe(fetches);
      issuer.available = true;
      vi.setSystemTime(new Date('2026-01-01T00:01:03Z'));
      await expect(keys.getKey(issuer.kid, 'ES256')).resolves.toBe(key);
      expect(keys.isCurrent(key)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('after a failed fetch, refresh() tries again at most once a second', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-01T00:00:00Z') });
    try {
      issuer.available = false;
      const keys = source(issuer.url, { cooldown: 0 });
      for (let i = 0; i < 5; i += 1) {
        expect(await codeOf(keys.refresh())).toBe('ZT_KEYS_UNAVAILABLE');
      }
      expect(keys.status().fetches).toBe(1);
      issuer.available = true;
      vi.setSystemTime(new Date('2026-01-01T00:00:01.5Z'));
      await keys.refresh();
      expect(keys.status()).toMatchObject({ fetches: 2, usable: true });
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a discovery document naming another issuer', async () => {
    const server = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ issuer: 'https://evil.example', jwks_uri: `${issuer.url}/jwks` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const failure = await source(url)
        .getKey(issuer.kid, 'ES256')
        .then(
          () => undefined,
          (error: unknown) => error as DependencyUnavailableError,
        );
      expect(failure?.code).toBe('ZT_KEYS_UNAVAILABLE');
      // Both values named, so the operator sees the misconfiguration at once.
      expect((failure?.cause as Error | undefined)?.message).toBe(
        `the discovery document names issuer "https://evil.example", expected "${url}"`,
      );
      expect(issuer.jwksRequests).toBe(0);
    } finally {
      server.close();
    }
  });

  it('ignores private, symmetric and encryption keys in a JWKS', async () => {
    const good = issuer.publicJwk;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          keys: [
            { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', alg: 'HS256' },
            { ...good, kid: 'private', d: 'AAAA' },
            { ...good, kid: 'enc', use: 'enc' },
            { ...good, kid: 'good', alg: 'ES256' },
          ],
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const keys = source(url, {}, `${url}/jwks`);
      await expect(keys.getKey('good', 'ES256')).resolves.toBeDefined();
      expect(keys.status().keys).toBe(1);
      for (const kid of ['hmac', 'private', 'enc'])
        expect(await codeOf(keys.getKey(kid, 'ES256'))).toBe('ZT_TOKEN_KEY_UNKNOWN');
      expect(new InvalidTokenError('ZT_TOKEN_KEY_UNKNOWN').getStatus()).toBe(401);
    } finally {
      server.close();
    }
  });
});
