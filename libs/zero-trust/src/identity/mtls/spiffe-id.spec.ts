import { describe, expect, it } from 'vitest';
import { isTrustDomain, parseSpiffeId } from './spiffe-id.js';

describe('parseSpiffeId', () => {
  it('parses workload IDs', () => {
    expect(parseSpiffeId('spiffe://demo.local/billing-worker')).toEqual({
      id: 'spiffe://demo.local/billing-worker',
      trustDomain: 'demo.local',
      path: 'billing-worker',
    });
    expect(parseSpiffeId('spiffe://prod_1.example-org/ns/default/sa/Billing.v2')?.path).toBe(
      'ns/default/sa/Billing.v2',
    );
  });

  it.each([
    ['another scheme', 'https://demo.local/a'],
    ['an uppercase scheme', 'SPIFFE://demo.local/a'],
    ['an uppercase trust domain', 'spiffe://Demo.local/a'],
    ['no path (trust domain ID)', 'spiffe://demo.local'],
    ['a root path', 'spiffe://demo.local/'],
    ['an empty trust domain', 'spiffe:///a'],
    ['a port', 'spiffe://demo.local:8443/a'],
    ['user info', 'spiffe://user@demo.local/a'],
    ['a query', 'spiffe://demo.local/a?x=1'],
    ['a fragment', 'spiffe://demo.local/a#x'],
    ['percent-encoding', 'spiffe://demo.local/a%2Fb'],
    ['an empty segment', 'spiffe://demo.local/a//b'],
    ['a trailing slash', 'spiffe://demo.local/a/'],
    ['a dot segment', 'spiffe://demo.local/./a'],
    ['a dot-dot segment', 'spiffe://demo.local/a/../b'],
    ['a space', 'spiffe://demo.local/a b'],
    ['non-ASCII', 'spiffe://demo.local/caf\u00e9'],
    ['too long', `spiffe://demo.local/${'a'.repeat(2040)}`],
  ])('refuses %s', (_name, value) => {
    expect(parseSpiffeId(value)).toBeUndefined();
  });

  it('checks trust domain names', () => {
    expect(isTrustDomain('demo.local')).toBe(true);
    expect(isTrustDomain('')).toBe(false);
    expect(isTrustDomain('Demo.local')).toBe(false);
    expect(isTrustDomain('demo.local:80')).toBe(false);
  });
});
