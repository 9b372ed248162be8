import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ZeroTrustConfigurationError } from '../../errors/zero-trust.error.js';
import { validateOptions } from '../../options/validate-options.js';
import { createDpopKey, createDpopProof, jwkThumbprint } from '../../testing/dpop-proof.js';
import { accessTokenHash, checkDpopProof, normalizeHtu } from './dpop-proof.js';

const NOW = 1_800_000_000;
const REQUEST_URL = 'https://api.example.com/invoices/42';
const TOKEN = 'header.payload.signature';
const REQUIRED = { issuer: 'https://issuer.test', audience: 'https://api.test' };

/** The problems the module finds in `options`, none when they are valid. */
function problemsOf(options: Record<string, unknown>): readonly string[] {
  try {
    validateOptions({ ...REQUIRED, ...options });
    return [];
  } catch (error) {
    if (error instanceof ZeroTrustConfigurationError) return error.problems;
    throw error;
  }
}
/** The `dpop` option resolved as the module resolves it. */
const dpopOptions = (dpop: Record<string, unknown>) => {
  const resolved = validateOptions({ ...REQUIRED, dpop }).dpop;
  if (resolved === undefined) throw new Error('options refused');
  return resolved;
};
const options = dpopOptions({
  algorithms: ['ES256', 'PS256'],
  publicUrl: 'https://api.example.com',
});
const key = createDpopKey();
const expected = {
  method: 'GET',
  htus: [normalizeHtu(REQUEST_URL) as string],
  accessToken: TOKEN,
  now: NOW,
};

const proof = (overrides: Partial<Parameters<typeof createDpopProof>[0]> = {}): string =>
  createDpopProof({
    key,
    method: 'GET',
    url: REQUEST_URL,
    accessToken: TOKEN,
    iat: NOW,
    ...overrides,
  });

async function failure(
  value: string,
  expectation = expected,
): Promise<{ code: string; message: string; challenge?: string }> {
  try {
    await checkDpopProof(value, expectation, options);
  } catch (error) {
    return error as { code: string; message: string; challenge?: string };
  }
  throw new Error('the proof was accepted');
}

describe('checkDpopProof (RFC 9449 §4.3), clock pinned', () => {
  it('accepts a valid proof and returns the RFC 7638 thumbprint of its key', async () => {
    const checked = await checkDpopProof(proof({ jti: 'j1' }), expected, options);
    expect(checked).toEqual({ jkt: key.jkt, jti: 'j1' });
    // RFC 7638 §3.1 example key and thumbprint.
    expect(
      jwkThumbprint({
        kty: 'RSA',
        e: 'AQAB',
        n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      }),
    ).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    expect(accessTokenHash('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('normalizes URLs for htu: case, default port, dot segments; no query or fragment', () => {
    expect(normalizeHtu('HTTPS://API.Example.com:443/a/./b/../c?x=1#f')).toBe(
      'https://api.example.com/a/c',
    );
    expect(normalizeHtu('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080/');
    expect(normalizeHtu('ftp://example.com/')).toBeUndefined();
    expect(normalizeHtu('https://user:pw@example.com/')).toBeUndefined();
    expect(normalizeHtu('/relative')).toBeUndefined();
  });

  it.each<[string, () => string, RegExp]>([
    ['too large', () => proof({ claims: { pad: 'x'.repeat(5000) } }), /too large/],
    ['not a compact JWS', () => 'a.b', /compact JWS/],
    [
      'a header that is not JSON',
      () => `bm90LWpzb24.${proof().split('.').slice(1).join('.')}`,
      /header/,
    ],
    ['typ JWT', () => proof({ header: { typ: 'JWT' } }), /typ/],
    ['no typ', () => proof({ header: { typ: undefined } }), /typ/],
    ['alg none', () => proof({ header: { alg: 'none' }, signature: 'AA' }), /algorithm/],
    ['alg HS256', () => proof({ header: { alg: 'HS256' } }), /algorithm/],
    ['an algorithm outside the allowlist', () => proof({ header: { alg: 'ES384' } }), /algorithm/],
    ['no jwk', () => proof({ header: { jwk: undefined } }), /no jwk/],
    [
      'a private EC key',
      () => proof({ header: { jwk: key.privateKey.export({ format: 'jwk' }) } }),
      /public key/,
    ],
    [
      'a symmetric key',
      () => proof({ header: { jwk: { kty: 'oct', k: 'c2VjcmV0' } } }),
      /public key/,
    ],
    ['an unknown key type', () => proof({ header: { jwk: { kty: 'XYZ' } } }), /asymmetric/],
    [
      'a key that does not fit alg',
      () => proof({ header: { alg: 'PS256' } }),
      /public key for its algorithm|signature/,
    ],
    [
      'a bad signature',
      () => proof({ signWith: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }),
      /signature/,
    ],
    ['no jti', () => proof({ omit: ['jti'] }), /jti/],
    ['a huge jti', () => proof({ jti: 'j'.repeat(300) }), /jti/],
    ['another method', () => proof({ method: 'POST' }), /htm/],
    ['a lowercase method', () => proof({ method: 'get' }), /htm/],
    ['another URL', () => proof({ url: 'https://api.example.com/invoices/43' }), /htu/],
    ['another host', () => proof({ url: 'https://evil.example.com/invoices/42' }), /htu/],
    ['a non-string htu', () => proof({ claims: { htu: 42 } }), /htu/],
    ['no iat', () => proof({ omit: ['iat'] }), /iat/],
    ['an old iat', () => proof({ iat: NOW - 61 }), /too old/],
    ['a future iat', () => proof({ iat: NOW + 6 }), /future/],
    ['another access token', () => proof({ accessToken: 'other.token.value' }), /ath/],
    ['no ath', () => proof({ omit: ['ath'] }), /ath/],
  ])('refuses %s', async (_name, build, message) => {
    const error = await failure(build());
    expect(error.code).toBe('ZT_DPOP_PROOF_INVALID');
    expect(error.message).toMatch(message);
    expect(error.challenge).toMatch(
      /^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="ES256 PS256"$/,
    );
  });

  it('accepts the edges of the iat window', async () => {
    await expect(
      checkDpopProof(proof({ iat: NOW - 60 }), expected, options),
    ).resolves.toBeDefined();
    await expect(checkDpopProof(proof({ iat: NOW + 5 }), expected, options)).resolves.toBeDefined();
  });

  it('refuses every proof when the request URL cannot be built', async () => {
    expect((await failure(proof(), { ...expected, htus: [] })).message).toMatch(/htu/);
  });

  it('accepts an htu at any of the public URLs, and no other', async () => {
    const both = {
      ...expected,
      htus: ['https://api.example.com/invoices/42', 'https://api.example.net/invoices/42'],
    };
    await expect(
      checkDpopProof(proof({ url: 'https://API.example.net:443/invoices/42' }), both, options),
    ).resolves.toBeDefined();
    expect(
      (await failure(proof({ url: 'https://api.example.org/invoices/42' }), both)).message,
    ).toMatch(/htu/);
  });

  it('accepts RSA-PSS proofs', async () => {
    const rsa = createDpopKey('PS256');
    const checked = await checkDpopProof(proof({ key: rsa }), expected, options);
    expect(checked.jkt).toBe(rsa.jkt);
  });
});

describe('the dpop option', () => {
  it('applies defaults', () => {
    expect(dpopOptions({ publicUrl: 'https://api.example.com' })).toMatchObject({
      required: false,
      iatWindow: 60,
      clockTolerance: 5,
      publicUrls: ['https://api.example.com'],
    });
    expect(dpopOptions({ publicUrl: 'https://api.example.com/v1/' }).publicUrls).toEqual([
      'https://api.example.com/v1',
    ]);
    expect(
      dpopOptions({ publicUrl: ['https://a.example.com', 'http://127.0.0.1:3000/'] }).publicUrls,
    ).toEqual(['https://a.example.com', 'http://127.0.0.1:3000']);
  });

  it('requires publicUrl: the origin is never taken from the request', () => {
    expect(problemsOf({ dpop: {} })).toEqual([
      expect.stringMatching(/^dpop\.publicUrl is required/),
    ]);
    const listed = [
      ...problemsOf({ dpop: { publicUrl: [] } }),
      ...problemsOf({ dpop: { publicUrl: ['https://ok.example.com', 'ftp://x', 42] } }),
    ];
    expect(listed).toEqual([
      'dpop.publicUrl must be a URL or a non-empty array of URLs',
      'dpop.publicUrl[1] must be an http(s) URL without credentials, query or fragment',
      'dpop.publicUrl[2] must be an http(s) URL without credentials, query or fragment',
    ]);
  });

  it('lists every problem without echoing values', () => {
    const problems = problemsOf({
      dpop: {
        required: 'yes',
        algorithms: ['HS256'],
        iatWindow: 0,
        clockTolerance: -1,
        publicUrl: 'https://secret@api.example.com',
        maxProofSize: 1,
        nonce: true,
      },
    });
    expect(problems).toHaveLength(7);
    expect(problems.join('\n')).not.toContain('secret');
  });
});
