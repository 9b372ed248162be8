import { describe, expect, it } from 'vitest';
import { TrustedProxies, normalizeAddress, trustedProxyProblem } from './client-address.js';

const request = (peer: string, xff?: string) => ({
  socket: { remoteAddress: peer },
  headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
});

describe('TrustedProxies', () => {
  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const proxies = new TrustedProxies(['10.0.0.0/8']);
    expect(proxies.clientAddressOf(request('203.0.113.9', '81.2.69.142'))).toBe('203.0.113.9');
    expect(new TrustedProxies([]).clientAddressOf(request('127.0.0.1', '1.2.3.4'))).toBe(
      '127.0.0.1',
    );
  });

  it('walks X-Forwarded-For right to left past trusted hops only', () => {
    const proxies = new TrustedProxies(['loopback', '10.0.0.0/8']);
    expect(proxies.clientAddressOf(request('::ffff:127.0.0.1', '81.2.69.142'))).toBe('81.2.69.142');
    // the left-most value is attacker-controlled: stop at the first untrusted hop
    expect(proxies.clientAddressOf(request('127.0.0.1', '6.6.6.6, 81.2.69.142, 10.1.2.3'))).toBe(
      '81.2.69.142',
    );
    // a malformed hop ends the walk at the last trusted address
    expect(proxies.clientAddressOf(request('127.0.0.1', 'evil, 10.1.2.3'))).toBe('10.1.2.3');
    expect(proxies.isTrusted('::1')).toBe(true);
    expect(proxies.isTrusted('11.0.0.1')).toBe(false);
    expect(proxies.isTrusted('not-an-ip')).toBe(false);
  });

  it('validates entries', () => {
    expect(trustedProxyProblem('10.0.0.0/8')).toBeUndefined();
    expect(trustedProxyProblem('2001:db8::/32')).toBeUndefined();
    expect(trustedProxyProblem('10.0.0.0/33')).toBeDefined();
    expect(trustedProxyProblem('example.com')).toBeDefined();
    expect(trustedProxyProblem(42)).toBeDefined();
    expect(normalizeAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
  });
});
