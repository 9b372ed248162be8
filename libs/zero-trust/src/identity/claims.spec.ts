import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../errors/zero-trust.error.js';
import { validateOptions } from '../options/validate-options.js';
import { checkClaims, toPrincipal } from './claims.js';
import type { TokenClaims } from './principal.interface.js';

const options = validateOptions({
  issuer: 'https://idp.example.com',
  audience: 'https://api.example.com',
  principals: {
    services: { 'billing-worker': { roles: ['billing'], attributes: { team: 'payments' } } },
    integrations: { 'partner-crm': { roles: ['crm'] } },
    attributes: (claims: TokenClaims) => ({ tenant: claims.tenant ?? 'none' }),
  },
});
const now = 1_800_000_000;
const base = {
  iss: 'https://idp.example.com',
  aud: 'https://api.example.com',
  sub: 'alice',
  jti: 'j1',
  iat: now,
  exp: now + 600,
};

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof InvalidTokenError
      ? error.code
      : `not an InvalidTokenError: ${String(error)}`;
  }
}

describe('checkClaims', () => {
  it('accepts a well-formed claim set', () => {
    expect(checkClaims({ ...base }, options, now)).toMatchObject(base);
  });

  it.each([
    ['missing jti', { ...base, jti: undefined }, 'ZT_TOKEN_CLAIM_MISSING'],
    ['empty sub', { ...base, sub: '' }, 'ZT_TOKEN_CLAIM_MISSING'],
    ['numeric sub', { ...base, sub: 42 }, 'ZT_TOKEN_CLAIM_INVALID'],
    [
      'another audience',
      { ...base, aud: ['https://other.example.com'] },
      'ZT_TOKEN_AUDIENCE_INVALID',
    ],
    ['no audience', { ...base, aud: undefined }, 'ZT_TOKEN_AUDIENCE_INVALID'],
    ['another issuer', { ...base, iss: 'https://evil.example.com' }, 'ZT_TOKEN_ISSUER_INVALID'],
    ['NaN-like exp', { ...base, exp: null }, 'ZT_TOKEN_CLAIM_MISSING'],
    ['exp before iat', { ...base, iat: now, exp: now - 1 }, 'ZT_TOKEN_CLAIM_INVALID'],
    ['exp equal to iat', { ...base, iat: now, exp: now }, 'ZT_TOKEN_CLAIM_INVALID'],
    [
      'iat beyond the tolerance',
      { ...base, iat: now + 6, exp: now + 60 },
      'ZT_TOKEN_ISSUED_IN_FUTURE',
    ],
    ['lifetime above 900 s', { ...base, exp: now + 901 }, 'ZT_TOKEN_LIFETIME_EXCEEDED'],
  ])('refuses %s', (_name, claims, code) => {
    expect(codeOf(() => checkClaims(claims as Record<string, unknown>, options, now))).toBe(code);
  });

  it('tolerates the configured clock skew', () => {
    expect(() =>
      checkClaims({ ...base, iat: now + 5, exp: now + 60, nbf: now + 5 }, options, now),
    ).not.toThrow();
  });
});

describe('toPrincipal', () => {
  const claims = (extra: Record<string, unknown>): TokenClaims => ({ ...base, ...extra });

  it('maps a user with roles, scopes, acr, amr and app attributes', () => {
    const principal = toPrincipal(
      claims({
        roles: 'accountant auditor',
        scope: 'a b',
        scp: ['c'],
        acr: 'mfa',
        amr: ['pwd', 'otp'],
        client_id: 'web',
        tenant: 't1',
      }),
      options,
    );
    expect(principal).toMatchObject({
      kind: 'user',
      id: 'alice',
      clientId: 'web',
      roles: ['accountant', 'auditor'],
      scopes: ['a', 'b', 'c'],
      token: { jti: 'j1', acr: 'mfa', amr: ['pwd', 'otp'] },
      attributes: { tenant: 't1' },
    });
    expect(Object.isFrozen(principal) && Object.isFrozen(principal.roles)).toBe(true);
  });

  it('maps registered services and integrations, with roles from the registration only', () => {
    const service = toPrincipal(
      claims({ sub: 'billing-worker', client_id: 'billing-worker', roles: ['admin'] }),
      options,
    );
    expect(service).toMatchObject({
      kind: 'service',
      id: 'billing-worker',
      roles: ['billing'],
      attributes: { team: 'payments', tenant: 'none' },
    });
    const integration = toPrincipal(
      claims({ sub: 'partner-crm', client_id: 'partner-crm' }),
      options,
    );
    expect(integration).toMatchObject({ kind: 'integration', id: 'partner-crm', roles: ['crm'] });
  });

  it('refuses a client acting for itself that is not registered, even named like a prototype key', () => {
    for (const client of ['rogue', 'constructor', '__proto__', 'toString']) {
      expect(codeOf(() => toPrincipal(claims({ sub: client, client_id: client }), options))).toBe(
        'ZT_CLIENT_UNKNOWN',
      );
    }
  });

  it('refuses a token naming a registered service as subject but issued to another client', () => {
    for (const extra of [{ client_id: 'web' }, { client_id: 'partner-crm' }, {}]) {
      expect(codeOf(() => toPrincipal(claims({ sub: 'billing-worker', ...extra }), options))).toBe(
        'ZT_CLIENT_MISMATCH',
      );
    }
    expect(codeOf(() => toPrincipal(claims({ sub: 'partner-crm', azp: 'web' }), options))).toBe(
      'ZT_CLIENT_MISMATCH',
    );
  });
});
