import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { validateOptions } from '../options/validate-options.js';
import type { Principal } from './principal.interface.js';
import { VerifiedTokenCache, type VerifiedToken } from './verified-token.cache.js';

const cache = new VerifiedTokenCache(
  validateOptions({ issuer: 'https://idp.example.com', audience: 'a' }),
);
const sha256 = (token: string): string => createHash('sha256').update(token).digest('base64url');

describe('VerifiedTokenCache.digest', () => {
  it('is the SHA-256 digest of the token', () => {
    expect(cache.digest('a.b.c')).toBe(sha256('a.b.c'));
  });
});

describe('VerifiedTokenCache entries', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const entry = (exp: number): VerifiedToken => ({
    principal: { token: { exp } } as Principal,
    key: publicKey,
  });
  const options = (tokenCache?: { max: number }) =>
    validateOptions({
      issuer: 'https://idp.example.com',
      audience: 'a',
      clockTolerance: 0,
      ...(tokenCache ? { tokenCache } : {}),
    });

  it('keeps a token until its expiry, under its digest', () => {
    const tokens = new VerifiedTokenCache(options());
    const verified = entry(Math.floor(Date.now() / 1000) + 60);
    tokens.set(tokens.digest('a.b.c'), verified);
    expect(tokens.get(tokens.digest('a.b.c'))).toBe(verified);
    expect(tokens.get(tokens.digest('a.b.d'))).toBeUndefined();
  });

  it('never keeps a token at or past its expiry (a zero TTL would mean forever)', () => {
    const tokens = new VerifiedTokenCache(options());
    const now = Date.now() / 1000;
    tokens.set('expired', entry(Math.floor(now) - 1));
    tokens.set('expiring', entry(now));
    expect(tokens.get('expired')).toBeUndefined();
    expect(tokens.get('expiring')).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it('is bounded by tokenCache.max, and off with max 0', () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const small = new VerifiedTokenCache(options({ max: 2 }));
    for (const digest of ['one', 'two', 'three']) small.set(digest, entry(exp));
    expect(small.size).toBe(2);
    expect(small.get('one')).toBeUndefined();
    const off = new VerifiedTokenCache(options({ max: 0 }));
    off.set('one', entry(exp));
    expect(off.get('one')).toBeUndefined();
  });
});
