import { describe, expect, it } from 'vitest';
import { validateOptions } from '../../options/validate-options.js';
import { createRiskSignalInput, createTestPrincipal } from '../../testing/index.js';
import { NetworkSignal } from './network.signal.js';

const NOW = new Date('2026-03-02T09:00:00Z');

/** The `risk` option resolved as the module resolves it. */
const riskOptions = (risk: unknown) =>
  validateOptions({ issuer: 'https://issuer.test', audience: 'https://api.test', risk }).risk;

function signal(options: Record<string, unknown>): NetworkSignal {
  const resolved = riskOptions({ network: options }).network;
  if (resolved === undefined) throw new Error('network off');
  return new NetworkSignal(resolved);
}

describe('NetworkSignal', () => {
  const worker = createTestPrincipal({ kind: 'service', id: 'billing-worker' });
  const user = createTestPrincipal({ id: 'alice' });

  it('refuses addresses on the deny list, for everyone', () => {
    const network = signal({ deny: ['198.51.100.0/24', '2001:db8::/32'] });
    for (const ip of ['198.51.100.7', '::ffff:198.51.100.7', '2001:db8::1']) {
      expect(network.evaluate(createRiskSignalInput({ now: NOW, ip, principal: user }))).toEqual({
        signal: 'network',
        score: 100,
        reason: 'the client address is on the deny list',
      });
    }
    expect(
      network.evaluate(createRiskSignalInput({ now: NOW, ip: '198.51.101.7' })),
    ).toBeUndefined();
  });

  it('keeps a service to its allowed networks, and leaves other principals alone', () => {
    const network = signal({ services: { 'billing-worker': ['10.0.0.0/8', '::1'] }, score: 90 });
    const at = (ip: string | undefined, principal = worker) =>
      network.evaluate({
        ...createRiskSignalInput({ now: NOW, principal }),
        context: { ...createRiskSignalInput({ now: NOW, principal }).context, ip },
      });
    expect(at('10.2.3.4')).toBeUndefined();
    expect(at('::1')).toBeUndefined();
    expect(at('192.0.2.1')).toMatchObject({
      score: 90,
      reason: 'the service calls from outside its allowed networks',
    });
    expect(at(undefined)).toMatchObject({ score: 90 });
    expect(at('192.0.2.1', user)).toBeUndefined();
    const other = createTestPrincipal({ kind: 'service', id: 'reporting-service' });
    expect(at('192.0.2.1', other)).toBeUndefined();
  });

  it('rejects malformed blocks at boot', () => {
    expect(() =>
      riskOptions({ network: { deny: ['10.0.0.0/33', 'example.com'], services: { a: 'x' } } }),
    ).toThrow(
      expect.objectContaining({
        code: 'ZT_OPTIONS_INVALID',
        problems: [
          'risk.network.services.a must be an array of addresses or CIDR blocks',
          'risk.network.deny[0] must be an address or a CIDR block',
          'risk.network.deny[1] must be an address or a CIDR block',
        ],
      }),
    );
  });
});
