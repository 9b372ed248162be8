import { describe, expect, it } from 'vitest';
import { DEMO_TOTP_SECRETS } from './constants.js';
import { base32Decode, totp } from './totp.js';
import { verifyDemoCredentials, verifyDemoSecondFactor } from './users.js';

describe('demo users', () => {
  it('check passwords', () => {
    expect(verifyDemoCredentials('carol', 'carol')?.roles).toEqual(['admin']);
    expect(verifyDemoCredentials('carol', 'alice')).toBeUndefined();
  });

  it('accept each one-time code once, for its own user only', () => {
    const now = 1_800_000_000_000;
    const code = (user: string, at: number): string =>
      totp(base32Decode(DEMO_TOTP_SECRETS[user] ?? ''), at);
    expect(verifyDemoSecondFactor('bob', code('bob', now), now)).toBe('ok');
    expect(verifyDemoSecondFactor('bob', code('bob', now), now)).toBe('reused');
    expect(verifyDemoSecondFactor('bob', code('bob', now - 30_000), now)).toBe('reused');
    expect(verifyDemoSecondFactor('bob', code('bob', now + 30_000), now + 30_000)).toBe('ok');
    expect(verifyDemoSecondFactor('alice', code('bob', now), now)).toBe('invalid');
    expect(verifyDemoSecondFactor('mallory', code('bob', now), now)).toBe('invalid');
  });
});
