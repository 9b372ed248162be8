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
  const byForwarded = new TrustedProxies(['loopback', '10.0.0.0/8'], 'forwarded');
  const resolve = (xff?: string, forwarded?: string) =>
    proxies.resolveClient(request('127.0.0.1', xff, forwarded));
  const resolveForwarded = (forwarded?: string, xff?: string) =>
    byForwarded.resolveClient(request('127.0.0.1', xff, forwarded));

  it('reads X-Forwarded-For entries with ports, bracketed IPv6 and bare IPv6', () => {
    expect(resolve('203.0.113.7:4711')).toEqual({ address: '203.0.113.7' });
    expect(resolve('[2001:db8::1]:443')).toEqual({ address: '2001:db8::1' });
    expect(resolve('[2001:DB8::1]')).toEqual({ address: '2001:db8::1' });
    expect(resolve('2001:db8::1')).toEqual({ address: '2001:db8::1' });
    expect(resolve('6.6.6.6:1, 203.0.113.7:4711, 10.1.2.3:80')).toEqual({
      address: '203.0.113.7',
    });
  });

  it('reads RFC 7239 Forwarded when chosen: for=, quoted, IPv6 in brackets with a port, several elements', () => {
    expect(resolveForwarded('for=192.0.2.60;proto=http;by=203.0.113.43')).toEqual({
      address: '192.0.2.60',
    });
    expect(resolveForwarded('For="[2001:db8:cafe::17]:4711"')).toEqual({
      address: '2001:db8:cafe::17',
    });
    expect(
      resolveForwarded('for=6.6.6.6, for="198.51.100.17:80";proto=https, for=10.0.0.2'),
    ).toEqual({ address: '198.51.100.17' });
    expect(resolveForwarded('proto=https;for="10.0.0.3", for=192.0.2.43')).toEqual({
      address: '192.0.2.43',
    });
  });

  it('reads only the chosen header, the other not even parsed', () => {
    // X-Forwarded-For chosen (the default): Forwarded, valid or not, changes nothing.
    for (const forwarded of ['for=198.51.100.1', 'for=garbage', 'proto=https', 'for=unknown']) {
      expect(resolve('203.0.113.7', forwarded)).toEqual({ address: '203.0.113.7' });
      expect(resolve(undefined, forwarded)).toEqual({ address: '127.0.0.1' });
    }
    // Forwarded chosen: X-Forwarded-For, valid or not, changes nothing.
    for (const xff of ['198.51.100.1', 'garbage!', 'unknown']) {
      expect(resolveForwarded('for=203.0.113.7', xff)).toEqual({ address: '203.0.113.7' });
      expect(resolveForwarded(undefined, xff)).toEqual({ address: '127.0.0.1' });
    }
  });

  it('never lets a client make the proxy its address with any header it sends', () => {
    // The proxy (127.0.0.1) appends the real client, 203.0.113.7, right of whatever the client
    // sent: the walk stops there, before any client-written entry.
    const injected = ['garbage!', '1.2.3.4:99999', 'unknown', '_hidden', '127.0.0.1', ',', ''];
    for (const sent of injected) {
      expect(resolve(`${sent}, 203.0.113.7`, 'for=garbage')).toEqual({ address: '203.0.113.7' });
      expect(resolveForwarded(`${sent}, for=203.0.113.7`, 'garbage')).toEqual({
        address: '203.0.113.7',
      });
    }
    for (const sent of ['for="1.2.3.4', 'proto=https', 'for=a;for=b', 'for=unknown']) {
      expect(resolveForwarded(`${sent}, for=203.0.113.7`)).toEqual({ address: '203.0.113.7' });
    }
  });

  it('stops at an obfuscated or absent client without a problem (RFC 7239 §6.3)', () => {
    expect(resolveForwarded('for=_hidden, for=10.0.0.2')).toEqual({ address: '10.0.0.2' });
    expect(resolveForwarded('for=unknown')).toEqual({ address: '127.0.0.1' });
    expect(resolveForwarded('proto=https')).toEqual({ address: '127.0.0.1' });
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
      expect(resolveForwarded(forwarded)).toEqual({
        address: '127.0.0.1',
        problem: 'Forwarded entry 1 from the right is not an address',
      });
    }
    // The problem never quotes the header.
    expect(resolve('x'.repeat(5000)).problem).not.toContain('xxx');
  });

  it('reads neither header from a peer that is not a trusted proxy', () => {
    for (const chosen of [proxies, byForwarded]) {
      expect(chosen.resolveClient(request('203.0.113.9', 'bad!', 'for=198.51.100.1'))).toEqual({
        address: '203.0.113.9',
      });
    }
  });
});
