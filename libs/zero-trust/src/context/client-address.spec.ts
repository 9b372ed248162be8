import { describe, expect, it } from 'vitest';
import { TrustedProxies, normalizeAddress, trustedProxyProblem } from './client-address.js';

const request = (peer: string, xff?: string, forwarded?: string) => ({
  socket: { remoteAddress: peer },
  headers: {
    ...(xff === undefined ? {} : { 'x-forwarded-for': xff }),
    ...(forwarded === undefined ? {} : { forwarded }),
  },
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

describe('TrustedProxies.resolveClient: forwarded entries', () => {
  const proxies = new TrustedProxies(['loopback', '10.0.0.0/8']);
  const resolve = (xff?: string, forwarded?: string) =>
    proxies.resolveClient(request('127.0.0.1', xff, forwarded));

  it('reads X-Forwarded-For entries with ports, bracketed IPv6 and bare IPv6', () => {
    expect(resolve('203.0.113.7:4711')).toEqual({ address: '203.0.113.7' });
    expect(resolve('[2001:db8::1]:443')).toEqual({ address: '2001:db8::1' });
    expect(resolve('[2001:DB8::1]')).toEqual({ address: '2001:db8::1' });
    expect(resolve('2001:db8::1')).toEqual({ address: '2001:db8::1' });
    expect(resolve('6.6.6.6:1, 203.0.113.7:4711, 10.1.2.3:80')).toEqual({
      address: '203.0.113.7',
    });
  });

  it('reads RFC 7239 Forwarded: for=, quoted, IPv6 in brackets with a port, several elements', () => {
    expect(resolve(undefined, 'for=192.0.2.60;proto=http;by=203.0.113.43')).toEqual({
      address: '192.0.2.60',
    });
    expect(resolve(undefined, 'For="[2001:db8:cafe::17]:4711"')).toEqual({
      address: '2001:db8:cafe::17',
    });
    expect(
      resolve(undefined, 'for=6.6.6.6, for="198.51.100.17:80";proto=https, for=10.0.0.2'),
    ).toEqual({ address: '198.51.100.17' });
    expect(resolve(undefined, 'proto=https;for="10.0.0.3", for=192.0.2.43')).toEqual({
      address: '192.0.2.43',
    });
  });

  it('stops at an obfuscated or absent client without a problem (RFC 7239 §6.3)', () => {
    expect(resolve(undefined, 'for=_hidden, for=10.0.0.2')).toEqual({ address: '10.0.0.2' });
    expect(resolve(undefined, 'for=unknown')).toEqual({ address: '127.0.0.1' });
    expect(resolve(undefined, 'proto=https')).toEqual({ address: '127.0.0.1' });
    expect(resolve('unknown, 10.0.0.2')).toEqual({ address: '10.0.0.2' });
  });

  it('stops at an entry that is no address, at the last trusted hop, with a problem', () => {
    for (const xff of ['203.0.113.7:99999', 'example.com', '[203.0.113.7]:80', '1.2.3.4:', ',']) {
      const resolved = resolve(xff);
      expect(resolved.address).toBe('127.0.0.1');
      expect(resolved.problem).toBe('X-Forwarded-For entry 1 from the right is not an address');
    }
    expect(resolve('203.0.113.7, bad!, 10.0.0.2')).toEqual({
      address: '10.0.0.2',
      problem: 'X-Forwarded-For entry 2 from the right is not an address',
    });
    for (const forwarded of ['for="192.0.2.1', 'for', 'for=1.2.3.4;for=5.6.7.8', 'for=a"b"']) {
      expect(resolve(undefined, forwarded)).toEqual({
        address: '127.0.0.1',
        problem: 'Forwarded entry 1 from the right is not an address',
      });
    }
    // The problem never quotes the header.
    expect(resolve('x'.repeat(5000)).problem).not.toContain('xxx');
  });

  it('believes X-Forwarded-For and Forwarded together only when they name the same client', () => {
    expect(resolve('203.0.113.7', 'for=203.0.113.7')).toEqual({ address: '203.0.113.7' });
    expect(resolve('203.0.113.7:1', 'for="203.0.113.7:2"')).toEqual({ address: '203.0.113.7' });
    expect(resolve('203.0.113.7', 'for=198.51.100.1')).toEqual({
      address: '127.0.0.1',
      problem: 'X-Forwarded-For and Forwarded name different clients',
    });
  });

  it('reads neither header from a peer that is not a trusted proxy', () => {
    expect(proxies.resolveClient(request('203.0.113.9', 'bad!', 'for=198.51.100.1'))).toEqual({
      address: '203.0.113.9',
    });
  });
});
