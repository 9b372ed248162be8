import { describe, expect, it } from 'vitest';
import { ZeroTrustMetrics } from '../audit/metrics/zero-trust.metrics.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import type { HttpRequestLike } from '../context/request-context.js';
import { validateOptions } from '../options/validate-options.js';
import { MemorySharedStateStore } from '../stores/memory/memory-shared-state.store.js';
import { createDpopKey, createDpopProof } from '../testing/dpop-proof.js';
import { expectedHtus } from './dpop/request-url.js';
import type { Principal } from './principal.interface.js';
import { SenderConstraints } from './sender-constraints.js';

/** A store whose backend is down: every call rejects. */
class DownStore extends MemorySharedStateStore {
  override claimOnce(): Promise<boolean> {
    return Promise.reject(new Error('connection refused'));
  }
}

const base = { issuer: 'https://idp.example.com', audience: 'https://api.example.com' };
const publicUrl = 'https://api.example.com';
const key = createDpopKey();
const principal = (cnf?: Record<string, unknown>): Principal => ({
  kind: 'user',
  id: 'alice',
  subject: 'alice',
  issuer: base.issuer,
  roles: [],
  scopes: [],
  attributes: {},
  token: { jti: 'j', iat: 0, exp: 0, ...(cnf ? { cnf } : {}) },
});
const request = (headers: Record<string, string>, peer = '10.0.0.9'): HttpRequestLike =>
  ({
    method: 'GET',
    url: '/me?x=1',
    socket: { remoteAddress: peer },
    headers: { host: 'api.example.com', ...headers },
  }) as HttpRequestLike;

/** Sender constraints over an in-memory store. */
function withStore(options: ResolvedZeroTrustOptions): SenderConstraints {
  return new SenderConstraints(
    options,
    new MemorySharedStateStore(),
    new ZeroTrustMetrics(options),
  );
}

describe('SenderConstraints', () => {
  it('fails closed with 503 when the jti cannot be claimed', async () => {
    const options = validateOptions({ ...base, dpop: { publicUrl } });
    const metrics = new ZeroTrustMetrics(options);
    const constraints = new SenderConstraints(options, new DownStore(), metrics);
    const token = 'a.b.c';
    const req = request({
      authorization: `DPoP ${token}`,
      dpop: createDpopProof({
        key,
        method: 'GET',
        url: 'https://api.example.com/me',
        accessToken: token,
      }),
    });
    expect(constraints.credentials(req)).toEqual({ scheme: 'DPoP', token });
    await expect(
      constraints.check(req, { scheme: 'DPoP', token }, principal({ jkt: key.jkt })),
    ).rejects.toMatchObject({
      code: 'ZT_STORE_UNAVAILABLE',
      status: 503,
    });
    expect(await metrics.registry.metrics()).toContain(
      'zero_trust_store_errors_total{concern="dpop"} 1',
    );
  });

  it('refuses the Bearer scheme when DPoP is required, and the DPoP scheme when DPoP is off', () => {
    const required = withStore(
      validateOptions({ ...base, dpop: { required: true, algorithms: ['ES256'], publicUrl } }),
    );
    expect(() => required.credentials(request({ authorization: 'Bearer a.b.c' }))).toThrow(
      expect.objectContaining({ code: 'ZT_DPOP_TOKEN_UNBOUND' }),
    );
    expect(() => required.credentials(request({}))).toThrow(
      expect.objectContaining({ code: 'ZT_TOKEN_MISSING', challenge: 'DPoP algs="ES256"' }),
    );
    const off = withStore(validateOptions(base));
    expect(() => off.credentials(request({ authorization: 'DPoP a.b.c' }))).toThrow(
      expect.objectContaining({ code: 'ZT_TOKEN_MISSING', challenge: 'Bearer' }),
    );
    expect(() => off.credentials(request({ authorization: 'Bearer a b' }))).toThrow(
      expect.objectContaining({ code: 'ZT_TOKEN_MALFORMED' }),
    );
  });

  it('enforces certificate-bound tokens even without the mtls option', async () => {
    const constraints = withStore(validateOptions(base));
    const req = request({ authorization: 'Bearer a.b.c' });
    const presented = constraints.credentials(req);
    // As the guard runs it: awaited inside an async function (a refusal may be thrown at once).
    const check = async (p: Principal) => constraints.check(req, presented, p);
    await expect(check(principal({ 'x5t#S256': 'abc' }))).rejects.toMatchObject({
      code: 'ZT_CERTIFICATE_REQUIRED',
    });
    // An unbound Bearer token: nothing to wait for, not even a promise.
    expect(constraints.check(req, presented, principal())).toBeUndefined();
    // A DPoP-bound token where DPoP is off: never usable, answered with a Bearer challenge.
    await expect(check(principal({ jkt: 'k' }))).rejects.toMatchObject({
      code: 'ZT_DPOP_BOUND_TOKEN_AS_BEARER',
      challenge: expect.stringMatching(/^Bearer error="invalid_token"/),
    });
  });
});

describe('expectedHtus', () => {
  it('is each public URL plus the request path, never the Host or X-Forwarded-* headers', () => {
    const forwarded = request(
      { host: 'evil.example.com', 'x-forwarded-host': 'evil.example.com' },
      '10.0.0.1',
    );
    expect(expectedHtus(forwarded, ['https://api.example.com'])).toEqual([
      'https://api.example.com/me',
    ]);
    expect(
      expectedHtus(request({}), ['https://api.example.com/v1', 'http://127.0.0.1:3000']),
    ).toEqual(['https://api.example.com/v1/me', 'http://127.0.0.1:3000/me']);
    expect(expectedHtus({ ...request({}), url: '//evil.example.com/me' }, [publicUrl])).toEqual([]);
  });
});
