import { describe, expect, it } from 'vitest';
import { base32Decode, hotp, matchTotp, totp } from './totp.js';

// RFC 6238 Appendix B: seeds are the ASCII digits "1234567890" repeated to the key length.
const seed = (length: number): Buffer =>
  Buffer.from('1234567890'.repeat(7).slice(0, length), 'ascii');

describe('TOTP', () => {
  it('matches the RFC 6238 test vectors (SHA-1, 8 digits)', () => {
    const vectors: [number, string][] = [
      [59, '94287082'],
      [1111111109, '07081804'],
      [1111111111, '14050471'],
      [1234567890, '89005924'],
      [2000000000, '69279037'],
      [20000000000, '65353130'],
    ];
    for (const [seconds, code] of vectors)
      expect(totp(seed(20), seconds * 1000, { digits: 8 })).toBe(code);
  });

  it('matches the RFC 6238 vectors for SHA-256 and SHA-512', () => {
    expect(totp(seed(32), 59_000, { digits: 8, algorithm: 'sha256' })).toBe('46119246');
    expect(totp(seed(32), 1111111109_000, { digits: 8, algorithm: 'sha256' })).toBe('68084774');
    expect(totp(seed(64), 59_000, { digits: 8, algorithm: 'sha512' })).toBe('90693936');
    expect(totp(seed(64), 20000000000_000, { digits: 8, algorithm: 'sha512' })).toBe('47863826');
  });

  it('matches the RFC 4226 HOTP vectors', () => {
    const codes = ['755224', '287082', '359152', '969429', '338314'];
    codes.forEach((code, counter) => expect(hotp(seed(20), counter)).toBe(code));
  });

  it('decodes base32 secrets', () => {
    expect(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')).toEqual(seed(20));
    expect(base32Decode('mzxw6=== ')).toEqual(Buffer.from('foo'));
    expect(() => base32Decode('not base32!')).toThrow('Invalid base32 secret');
  });

  it('accepts one step of drift either way, nothing more, and only digits', () => {
    const key = seed(20);
    const now = 1_700_000_000_000;
    expect(matchTotp(key, totp(key, now), now)).toBe(Math.floor(now / 30_000));
    expect(matchTotp(key, totp(key, now - 30_000), now)).toBe(Math.floor(now / 30_000) - 1);
    expect(matchTotp(key, totp(key, now + 30_000), now)).toBe(Math.floor(now / 30_000) + 1);
    expect(matchTotp(key, totp(key, now - 60_000), now)).toBeUndefined();
    expect(matchTotp(key, '12345', now)).toBeUndefined();
    expect(matchTotp(key, 'abcdef', now)).toBeUndefined();
  });
});
