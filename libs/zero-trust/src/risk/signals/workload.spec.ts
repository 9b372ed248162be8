import { describe, expect, it } from 'vitest';
import { createTestPrincipal } from '../../testing/index.js';
import { isProvenWorkload } from './workload.js';

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
