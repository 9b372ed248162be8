import { generateKeyPairSync } from 'node:crypto';
import { AuditService } from 'nestjs-zero-trust/audit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDpopKey,
  createDpopProof,
  TestCertificateAuthority,
  TestIssuer,
  type DpopKey,
  type DpopProofOptions,
} from 'nestjs-zero-trust/testing';
import { ADAPTERS } from '../support/demo-api.js';
import {
  httpsCall,
  startIdentityApi,
  type HttpsAnswer,
  type RunningIdentityApi,
} from '../support/identity-api.js';

const AUDIENCE = 'https://api.identity.test';
/** Where clients call the API (dpop.publicUrl): proofs name it, whatever Host reached the app. */
const PUBLIC_URL = 'https://api.identity.test/v1';
const ALGS = 'ES256 PS256';

describe.each(ADAPTERS)('DPoP proof of possession (%s)', (adapter) => {
  let issuer: TestIssuer;
  let ca: TestCertificateAuthority;
  let api: RunningIdentityApi;
  let key: DpopKey;
  const now = (): number => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
    ca = await TestCertificateAuthority.create();
    key = createDpopKey();
    api = await startIdentityApi({
      adapter,
      ca,
      server: await ca.issueServer(),
      zeroTrust: {
        issuer: issuer.url,
        audience: AUDIENCE,
        dpop: { algorithms: ['ES256', 'PS256'], iatWindow: 60, publicUrl: PUBLIC_URL },
      },
    });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  const boundToken = (jkt = key.jkt): string => issuer.sign({ sub: 'alice', cnf: { jkt } });

  /** GET /me with the DPoP scheme and a proof built from `overrides`. */
  function callWithProof(
    token: string,
    overrides: Partial<DpopProofOptions> = {},
    extra: { method?: string; headers?: Record<string, string | string[]> } = {},
  ): Promise<HttpsAnswer> {
    const proof = createDpopProof({
      key,
      method: 'GET',
      url: `${PUBLIC_URL}/me`,
      accessToken: token,
      ...overrides,
    });
    return httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      method: extra.method ?? 'GET',
      headers: { authorization: `DPoP ${token}`, dpop: proof, ...extra.headers },
    });
  }

  function expectProofRefused(answer: HttpsAnswer, code: string, message?: RegExp): void {
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe(code);
    expect(answer.body.message).toMatch(message ?? /./);
    expect(answer.challenge).toMatch(
      new RegExp(`^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="${ALGS}"$`),
    );
    expect(api.sink.last()?.code).toBe(code);
  }

  it('accepts a DPoP-bound token with a valid proof, and records the key thumbprint', async () => {
    const token = boundToken();
    const answer = await callWithProof(token);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: 'alice', dpop: { jkt: key.jkt } });
    await api.app.get(AuditService).flush();
    // The decision record names the key the token was proven with.
    expect(api.sink.last()).toMatchObject({ decision: 'allow', binding: { dpop: key.jkt } });
    // A cache hit with a fresh proof passes too, and one with a bad proof does not.
    expect((await callWithProof(token)).status).toBe(200);
    expectProofRefused(
      await callWithProof(token, { claims: { htm: 'POST' } }),
      'ZT_DPOP_PROOF_INVALID',
      /htm/,
    );
  });

  it('refuses a replayed proof', async () => {
    const token = boundToken();
    const proof = createDpopProof({
      key,
      method: 'GET',
      url: `${PUBLIC_URL}/me`,
      accessToken: token,
    });
    const headers = { authorization: `DPoP ${token}`, dpop: proof };
    expect((await httpsCall(`${api.url}/me`, { ca: ca.cert, headers })).status).toBe(200);
    expectProofRefused(
      await httpsCall(`${api.url}/me`, { ca: ca.cert, headers }),
      'ZT_DPOP_REPLAY',
    );
    expect(api.sink.last()?.action).toBe('authn_token_reuse');
  });

  it('refuses a missing proof, and two DPoP headers', async () => {
    const token = boundToken();
    expectProofRefused(
      await httpsCall(`${api.url}/me`, {
        ca: ca.cert,
        headers: { authorization: `DPoP ${token}` },
      }),
      'ZT_DPOP_PROOF_MISSING',
    );
    const proof = (): string =>
      createDpopProof({ key, method: 'GET', url: `${PUBLIC_URL}/me`, accessToken: token });
    expectProofRefused(
      await httpsCall(`${api.url}/me`, {
        ca: ca.cert,
        headers: { authorization: `DPoP ${token}`, dpop: [proof(), proof()] },
      }),
      'ZT_DPOP_PROOF_INVALID',
      /Exactly one/,
    );
  });

  it('refuses a proof whose typ is not dpop+jwt', async () => {
    expectProofRefused(
      await callWithProof(boundToken(), { header: { typ: 'JWT' } }),
      'ZT_DPOP_PROOF_INVALID',
      /typ/,
    );
  });

  it('refuses alg none and HS256 proofs', async () => {
    for (const alg of ['none', 'HS256']) {
      expectProofRefused(
        await callWithProof(boundToken(), {
          header: { alg },
          signature: alg === 'none' ? '' : 'c2ln',
        }),
        'ZT_DPOP_PROOF_INVALID',
        alg === 'none' ? /compact JWS/ : /algorithm/,
      );
    }
    // alg none with a dummy signature segment reaches the algorithm check.
    expectProofRefused(
      await callWithProof(boundToken(), { header: { alg: 'none' }, signature: 'AA' }),
      'ZT_DPOP_PROOF_INVALID',
      /algorithm/,
    );
  });

  it('refuses a private key in the jwk header', async () => {
    const jwk = key.privateKey.export({ format: 'jwk' });
    expectProofRefused(
      await callWithProof(boundToken(), { header: { jwk } }),
      'ZT_DPOP_PROOF_INVALID',
      /public key/,
    );
  });

  it('refuses a bad signature', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expectProofRefused(
      await callWithProof(boundToken(), { signWith: other.privateKey }),
      'ZT_DPOP_PROOF_INVALID',
      /signature/,
    );
  });

  it('refuses htm and htu mismatches, including a forged Host', async () => {
    expectProofRefused(
      await callWithProof(boundToken(), {}, { method: 'POST' }),
      'ZT_DPOP_PROOF_INVALID',
      /htm/,
    );
    expectProofRefused(
      await callWithProof(boundToken(), { url: `${PUBLIC_URL}/other` }),
      'ZT_DPOP_PROOF_INVALID',
      /htu/,
    );
    expectProofRefused(
      await callWithProof(boundToken(), { url: 'https://api.example.com/me' }),
      'ZT_DPOP_PROOF_INVALID',
      /htu/,
    );
    // The URL the request itself names (its Host) is not the public URL: refused.
    expectProofRefused(
      await callWithProof(boundToken(), { url: `${api.url}/me` }),
      'ZT_DPOP_PROOF_INVALID',
      /htu/,
    );
    // Nor is an X-Forwarded-Host that agrees with the proof.
    expectProofRefused(
      await callWithProof(
        boundToken(),
        { url: 'https://api.example.com/me' },
        { headers: { 'x-forwarded-host': 'api.example.com' } },
      ),
      'ZT_DPOP_PROOF_INVALID',
      /htu/,
    );
    // The query is not part of htu: a proof for the path matches a request with a query.
    const token = boundToken();
    const proof = createDpopProof({
      key,
      method: 'GET',
      url: `${PUBLIC_URL}/me?x=1`,
      accessToken: token,
    });
    const answer = await httpsCall(`${api.url}/me?page=2`, {
      ca: ca.cert,
      headers: { authorization: `DPoP ${token}`, dpop: proof },
    });
    expect(answer.status).toBe(200);
  });

  it('refuses a proof issued too long ago or in the future', async () => {
    expectProofRefused(
      await callWithProof(boundToken(), { iat: now() - 120 }),
      'ZT_DPOP_PROOF_INVALID',
      /too old/,
    );
    expectProofRefused(
      await callWithProof(boundToken(), { iat: now() + 120 }),
      'ZT_DPOP_PROOF_INVALID',
      /future/,
    );
  });

  it('refuses a proof for another access token (ath) or without ath', async () => {
    expectProofRefused(
      await callWithProof(boundToken(), { accessToken: boundToken() }),
      'ZT_DPOP_PROOF_INVALID',
      /ath/,
    );
    expectProofRefused(
      await callWithProof(boundToken(), { omit: ['ath'] }),
      'ZT_DPOP_PROOF_INVALID',
      /ath/,
    );
  });

  it('refuses a proof signed by another key than the token is bound to (jkt)', async () => {
    const other = createDpopKey();
    expectProofRefused(
      await callWithProof(boundToken(), { key: other }),
      'ZT_DPOP_BINDING_MISMATCH',
    );
  });

  it('refuses a DPoP-bound token presented as Bearer, and an unbound token as DPoP', async () => {
    const asBearer = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      headers: { authorization: `Bearer ${boundToken()}` },
    });
    expect(asBearer.status).toBe(401);
    expect(asBearer.body.code).toBe('ZT_DPOP_BOUND_TOKEN_AS_BEARER');
    expect(asBearer.challenge).toMatch(/^DPoP error="invalid_token", error_description="[^"]+"/);
    const unbound = issuer.sign({ sub: 'alice' });
    const answer = await callWithProof(unbound);
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('ZT_DPOP_TOKEN_UNBOUND');
    expect(answer.challenge).toMatch(/^DPoP error="invalid_token", /);
  });

  it('answers token problems under the DPoP scheme with a DPoP invalid_token challenge', async () => {
    const expired = issuer.sign({
      sub: 'alice',
      cnf: { jkt: key.jkt },
      iat: now() - 600,
      exp: now() - 300,
    });
    const answer = await callWithProof(expired);
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('ZT_TOKEN_EXPIRED');
    expect(answer.challenge).toBe(
      `DPoP error="invalid_token", error_description="The access token has expired", algs="${ALGS}"`,
    );
  });

  it('offers both schemes when no token is presented', async () => {
    const answer = await httpsCall(`${api.url}/me`, { ca: ca.cert });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('ZT_TOKEN_MISSING');
    expect(answer.challenge).toBe(`Bearer, DPoP algs="${ALGS}"`);
  });

  it('still accepts plain bearer tokens when DPoP is not required', async () => {
    const answer = await httpsCall(`${api.url}/me`, {
      ca: ca.cert,
      headers: { authorization: `Bearer ${issuer.sign({ sub: 'bob' })}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: 'bob', dpop: null });
  });
});
