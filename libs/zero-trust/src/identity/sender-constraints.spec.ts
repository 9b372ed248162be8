import { describe, expect, it } from 'vitest';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import type { HttpRequestLike } from '../context/request-context.js';
import { validateOptions } from '../options/validate-options.js';
import { MemorySharedStateStore } from '../stores/memory/memory-shared-state.store.js';
import { createDpopKey, createDpopProof } from '../testing/dpop-proof.js';

import type { Principal } from './principal.interface.js';
import { expectedHtus } from './dpop/dpop-proof.js';
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
const request = (headers: Record<string, string>, peer = '10.0.0.9'): HttpRequestLike => ({
  method: 'GET',
  url: '/me?x=1',
  socket: { remoteAddress: peer },
  headers: { host: 'api.example.com', ...headers },
});

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
    const check = (p: Principal) => constraints.check(req, presented, p);
    await expect(check(principal({ 'x5t#S256': 'abc' }))).rejects.toMatchObject({
      code: 'ZT_CERTIFICATE_REQUIRED',
    });
    // An unbound Bearer token: nothing to check.
    await expect(constraints.check(req, presented, principal())).resolves.toBeUndefined();
    // A DPoP-bound token where DPoP is off: never usable, answered with a Bearer challenge.
    await expect(check(principal({ jkt: 'k' }))).rejects.toMatchObject({
      code: 'ZT_DPOP_BOUND_TOKEN_AS_BEARER',
      challenge: expect.stringMatching(/^Bearer error="invalid_token"/),
    });
  });
});

describe('SenderConstraints.credentials: one credential, one way', () => {
  const constraints = withStore(validateOptions({ ...base, dpop: { publicUrl } }));
  const refusal = (req: HttpRequestLike): unknown => {
    try {
      constraints.credentials(req);
    } catch (error) {
      const e = error as { code: string; getStatus(): number; challenge: string };
      return { code: e.code, status: e.getStatus(), challenge: e.challenge };
    }
    return undefined;
  };
  const ambiguous = {
    code: 'ZT_AMBIGUOUS_CREDENTIALS',
    status: 400,
    challenge: expect.stringMatching(/^Bearer error="invalid_request", error_description="/),
  };
  const raw = (pairs: string[], extra: Partial<HttpRequestLike> = {}): HttpRequestLike => ({
    ...request({ authorization: pairs[1] ?? '' }),
    rawHeaders: pairs,
    ...extra,
  });

  it('refuses two Authorization headers, in either order, on Express and Fastify requests', () => {
    expect(
      refusal(raw(['Authorization', 'Bearer a.b.c', 'authorization', 'Bearer d.e.f'])),
    ).toEqual(ambiguous);
    const fastify = {
      ...request({ authorization: 'Bearer a.b.c' }),
      raw: { rawHeaders: ['AUTHORIZATION', 'Bearer a.b.c', 'Authorization', 'DPoP d.e.f'] },
    } as HttpRequestLike;
    expect(refusal(fastify)).toEqual(ambiguous);
    expect(refusal(raw(['Authorization', 'Bearer a.b.c']))).toBeUndefined();
  });

  it('refuses a header with an access_token in the query or the form body', () => {
    const header = { authorization: 'Bearer a.b.c' };
    expect(refusal({ ...request(header), url: '/me?access_token=x' })).toEqual(ambiguous);
    expect(refusal({ ...request(header), url: '/me?a=1&access%5Ftoken=' })).toEqual(ambiguous);
    expect(refusal({ ...request(header), query: { access_token: ['x'] } })).toEqual(ambiguous);
    const form = request({ ...header, 'content-type': 'application/x-www-form-urlencoded' });
    expect(refusal({ ...form, body: { access_token: 'x' } })).toEqual(ambiguous);
    // A JSON body is data, not an RFC 6750 §2.2 form: its fields are the application's.
    const json = request({ ...header, 'content-type': 'application/json' });
    expect(refusal({ ...json, body: { access_token: 'x' } })).toBeUndefined();
  });

  it('refuses an access_token in the query or the form body alone: not a supported method', () => {
    const unsupported = { ...ambiguous, code: 'ZT_TOKEN_METHOD_UNSUPPORTED' };
    expect(refusal({ ...request({}), url: '/me?access_token=x' })).toEqual(unsupported);
    const form = request({ 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });
    expect(refusal({ ...form, body: { access_token: 'x' } })).toEqual(unsupported);
  });

  it('refuses a Bearer token next to a DPoP proof', () => {
    const proof = createDpopProof({ key, method: 'GET', url: `${publicUrl}/me` });
    expect(refusal(request({ authorization: 'Bearer a.b.c', dpop: proof }))).toEqual(ambiguous);
    expect(refusal(request({ authorization: 'DPoP a.b.c', dpop: proof }))).toBeUndefined();
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
