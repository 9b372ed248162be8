import { describe, expect, it } from 'vitest';
import { createTestPrincipal } from '../../testing/index.js';
import { isProvenWorkload, principalKey } from './built-in.js';

describe('risk store keys', () => {
  const alice = { kind: 'user' as const, id: 'alice' };

  it('names the signal, the principal and the suffix, with the id encoded', () => {
    expect(principalKey('device', alice)).toBe('zt:risk:device:user:alice');
    expect(principalKey('usage', alice, 'm42')).toBe('zt:risk:usage:user:alice:m42');
    expect(principalKey('geo', { kind: 'service', id: 'a:b/c' })).toBe(
      'zt:risk:geo:service:a%3Ab%2Fc',
    );
  });

  it('keeps principals of different kinds, and ids that differ by a separator, apart', () => {
    const keys = new Set([
      principalKey('device', alice),
      principalKey('device', { kind: 'service', id: 'alice' }),
      principalKey('device', { kind: 'user', id: 'alice:seen' }),
      principalKey('device', alice, 'seen'),
    ]);
    expect(keys.size).toBe(4);
  });
});

describe('isProvenWorkload', () => {
  const service = (cnf?: Record<string, unknown>) =>
    createTestPrincipal({
      kind: 'service',
      id: 'billing-worker',
      token: cnf === undefined ? {} : { cnf },
    });
  const certificate = (of?: string) => ({
    thumbprint: 'thumb',
    source: 'socket' as const,
    ...(of === undefined ? {} : { service: of }),
  });

  it('holds for a service whose certificate (mTLS) names it', () => {
    expect(isProvenWorkload(service(), { certificate: certificate('billing-worker') })).toBe(true);
    expect(isProvenWorkload(service(), { certificate: certificate('reporting-service') })).toBe(
      false,
    );
  });

  it('holds for a certificate-bound token with its certificate, and a DPoP-bound one with its proof', () => {
    expect(isProvenWorkload(service({ 'x5t#S256': 'thumb' }), { certificate: certificate() })).toBe(
      true,
    );
    expect(isProvenWorkload(service({ 'x5t#S256': 'thumb' }), {})).toBe(false);
    expect(isProvenWorkload(service({ jkt: 'key' }), { dpop: { jkt: 'key' } })).toBe(true);
    expect(isProvenWorkload(service({ jkt: 'key' }), { dpop: { jkt: 'other' } })).toBe(false);
    expect(isProvenWorkload(service({ jkt: 'key' }), {})).toBe(false);
  });

  it('never holds for a plain bearer service, a user, or nobody', () => {
    expect(isProvenWorkload(service(), {})).toBe(false);
    const user = createTestPrincipal({ id: 'alice', token: { cnf: { jkt: 'key' } } });
    expect(isProvenWorkload(user, { dpop: { jkt: 'key' } })).toBe(false);
    expect(isProvenWorkload(undefined, { dpop: { jkt: 'key' } })).toBe(false);
  });
});
