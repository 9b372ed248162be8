import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { validateOptions } from '../options/validate-options.js';
import { VerifiedTokenCache } from './verified-token.cache.js';

const cache = new VerifiedTokenCache(
  validateOptions({ issuer: 'https://idp.example.com', audience: 'a' }),
);
const sha256 = (token: string): string => createHash('sha256').update(token).digest('base64url');

describe('VerifiedTokenCache.digestOn', () => {
  it('is the SHA-256 digest of the token, with or without a connection', () => {
    expect(cache.digest('a.b.c')).toBe(sha256('a.b.c'));
    expect(cache.digestOn(undefined, 'a.b.c')).toBe(sha256('a.b.c'));
    expect(cache.digestOn({}, 'a.b.c')).toBe(sha256('a.b.c'));
  });

  it('answers for the token presented, when one connection switches tokens', () => {
    const connection = {};
    const first = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln';
    const second = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2ln';
    expect(cache.digestOn(connection, first)).toBe(sha256(first));
    expect(cache.digestOn(connection, second)).toBe(sha256(second));
    // Same length, one character apart: never the previous token's digest.
    const tampered = `${second.slice(0, -1)}m`;
    expect(cache.digestOn(connection, tampered)).toBe(sha256(tampered));
    expect(cache.digestOn(connection, second)).toBe(sha256(second));
  });

  it('keeps the connections apart', () => {
    const one = {};
    const two = {};
    cache.digestOn(one, 'x.y.one');
    expect(cache.digestOn(two, 'x.y.two')).toBe(sha256('x.y.two'));
    expect(cache.digestOn(one, 'x.y.one')).toBe(sha256('x.y.one'));
  });
});
