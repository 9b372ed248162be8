import { describe, expect, it } from 'vitest';
import { TrustedProxies } from './client-address.js';
import { currentRequestId, requestIdOf, runWithRequestId } from './request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function request(peer: string, id?: string) {
  return {
    headers: id === undefined ? {} : { 'x-request-id': id },
    socket: { remoteAddress: peer },
  };
}

describe('requestIdOf', () => {
  const proxies = new TrustedProxies(['10.0.0.0/8']);

  it("believes a trusted proxy's well-formed X-Request-Id", () => {
    expect(requestIdOf(request('10.1.2.3', 'edge-4bf92f3577b34da6'), proxies)).toBe(
      'edge-4bf92f3577b34da6',
    );
  });

  it('generates a UUID for any other peer, or without trusted proxies', () => {
    expect(requestIdOf(request('203.0.113.9', 'forged'), proxies)).toMatch(UUID);
    expect(requestIdOf(request('10.1.2.3', 'forged'))).toMatch(UUID);
  });

  it('generates a UUID when the trusted header is malformed or too long', () => {
    expect(requestIdOf(request('10.1.2.3', 'a b\r\nX-Admin: 1'), proxies)).toMatch(UUID);
    expect(requestIdOf(request('10.1.2.3', 'x'.repeat(129)), proxies)).toMatch(UUID);
    expect(requestIdOf(request('10.1.2.3', ''), proxies)).toMatch(UUID);
  });
});

describe('currentRequestId', () => {
  it('is the id of the request being handled, across awaits, and undefined outside', async () => {
    expect(currentRequestId()).toBeUndefined();
    const seen = await runWithRequestId('req-7', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return currentRequestId();
    });
    expect(seen).toBe('req-7');
    expect(currentRequestId()).toBeUndefined();
  });
});
