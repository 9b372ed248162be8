import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RateLimitedError, ZeroTrustConfigurationError } from './zero-trust.error.js';

describe('ZeroTrustError bodies', () => {
  it('carry the reason phrase of their status, as Nest does (429 Too Many Requests)', () => {
    expect(new RateLimitedError(5).getResponse()).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'ZT_RATE_LIMITED',
    });
  });
});

describe('ZeroTrustConfigurationError', () => {
  it('prints as a plain error listing its problems, not as an HTTP 500 response', () => {
    const error = new ZeroTrustConfigurationError('ZT_OPTIONS_INVALID', [
      'issuer is required',
      'dpop.publicUrl is required',
    ]);
    const printed = inspect(error);
    expect(printed).toMatch(/^ZeroTrustConfigurationError \[ZT_OPTIONS_INVALID\]: Invalid/);
    expect(printed).toContain('  - issuer is required\n  - dpop.publicUrl is required');
    expect(printed).toMatch(/\n\s+at /);
    expect(printed).not.toMatch(/statusCode|Internal Server Error|500/);
    // Serialized (a JSON logger), it is its code and problems; an exception filter still works.
    expect(Object.keys(JSON.parse(JSON.stringify(error)) as object).sort()).toEqual([
      'code',
      'message',
      'name',
      'problems',
    ]);
    expect(error.getStatus()).toBe(500);
  });
});
