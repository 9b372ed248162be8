import { createHmac, generateKeyPairSync, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { DEMO_API_AUDIENCE } from '../apps/demo-api/src/config.js';
import {
  ADAPTERS,
  call,
  startDemoApi,
  startDemoIssuer,
  type RunningApi,
} from './support/demo-api.js';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe.each(ADAPTERS)('token verification (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;
  const now = (): number => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    issuer = await startDemoIssuer();
    api = await startDemoApi({ issuer: issuer.url, adapter });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  /** Calls GET /me with a token and expects a 401 invalid_token with `code`. */
  async function expectRejected(token: string, code: string): Promise<void> {
    const response = await call(api, 'GET', '/me', { token });
    expect(response.status).toBe(401);
    expect(response.body.code).toBe(code);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
    // Nothing of the token leaks into the response or the audit trail.
    const signature = token.split('.')[2] ?? token;
    expect(JSON.stringify(response.body)).not.toContain(signature.slice(0, 16) || '\u0000');
    const event = api.sink.events.at(-1);
    expect(event?.action).toMatch(/^authn_token_(invalid|revoked)$/);
    expect(event?.code).toBe(code);
    expect(JSON.stringify(event)).not.toContain(token);
  }

  it('accepts a valid token and maps a user principal', async () => {
    const response = await call(api, 'GET', '/me', {
      token: issuer.sign({ sub: 'alice', roles: ['accountant'], scope: 'invoices:read' }),
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      kind: 'user',
      id: 'alice',
      roles: ['accountant'],
      scopes: ['invoices:read'],
    });
  });

  it('answers bare Bearer and DPoP challenges without a token, and for another scheme', async () => {
    const variants: Record<string, string>[] = [{}, { authorization: 'Basic YWxpY2U6YWxpY2U=' }];
    for (const headers of variants) {
      const response = await call(api, 'GET', '/me', { headers });
      expect(response.status).toBe(401);
      // the demo accepts DPoP-bound tokens too, so both schemes are offered (RFC 9449 §7.1)
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer, DPoP algs="ES256 [^"]+"$/);
      expect(response.body.code).toBe('ZT_TOKEN_MISSING');
    }
  });

  it('refuses what is not a compact JWS', async () => {
    const token = issuer.sign();
    const [h, p, s] = token.split('.');
    await expectRejected(`${h}.${p}`, 'ZT_TOKEN_MALFORMED');
    await expectRejected(`${token}.extra`, 'ZT_TOKEN_MALFORMED');
    await expectRejected(`${h}.${p}.${s}.a.b`, 'ZT_TOKEN_MALFORMED'); // JWE shape
    await expectRejected('not-a-token', 'ZT_TOKEN_MALFORMED');
    await expectRejected(`${b64('header')}.${p}.${s}`, 'ZT_TOKEN_MALFORMED');
    await expectRejected(
      `${Buffer.from('{"alg":').toString('base64url')}.${p}.${s}`,
      'ZT_TOKEN_MALFORMED',
    );
  });

  it('refuses a token above the size cap before parsing it', async () => {
    await expectRejected(issuer.sign({ padding: 'x'.repeat(9000) }), 'ZT_TOKEN_TOO_LARGE');
  });

  it('refuses alg none in every casing, and HMAC signed with the public key', async () => {
    const payload = b64({
      iss: issuer.url,
      aud: DEMO_API_AUDIENCE,
      sub: 'mallory',
      jti: 'j',
      iat: now(),
      exp: now() + 60,
    });
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await expectRejected(
        `${b64({ alg, typ: 'at+jwt' })}.${payload}.`,
        'ZT_TOKEN_ALGORITHM_REJECTED',
      );
    }
    const pem = createPublicKey({ key: issuer.publicJwk, format: 'jwk' }).export({
      format: 'pem',
      type: 'spki',
    });
    const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: issuer.kid })}.${payload}`;
    await expectRejected(
      `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`,
      'ZT_TOKEN_ALGORITHM_REJECTED',
    );
  });

  it('never trusts jku, x5u, x5c or an embedded jwk', async () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = attacker.publicKey.export({ format: 'jwk' });
    for (const header of [
      { jku: 'http://127.0.0.1:9/jwks' },
      { x5u: 'http://127.0.0.1:9/cert' },
      { x5c: ['MIIB'] },
      { jwk },
    ]) {
      await expectRejected(
        issuer.sign({}, { header, key: attacker.privateKey }),
        'ZT_TOKEN_HEADER_REJECTED',
      );
    }
  });

  it('uses kid only as a lookup key', async () => {
    for (const kid of ['../../../../dev/null', "' OR 1=1 --", '$(sleep 5)', 'unknown-kid']) {
      await expectRejected(issuer.sign({}, { header: { kid } }), 'ZT_TOKEN_KEY_UNKNOWN');
    }
  });

  it('refuses a forged signature and a changed payload', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expectRejected(issuer.sign({}, { key: other.privateKey }), 'ZT_TOKEN_SIGNATURE_INVALID');
    const [h, , s] = issuer.sign({ sub: 'bob' }).split('.');
    const forged = b64({
      iss: issuer.url,
      aud: DEMO_API_AUDIENCE,
      sub: 'carol',
      roles: ['admin'],
      jti: 'x',
      iat: now(),
      exp: now() + 60,
    });
    await expectRejected(`${h}.${forged}.${s}`, 'ZT_TOKEN_SIGNATURE_INVALID');
  });

  it('requires the exact issuer and our audience', async () => {
    await expectRejected(issuer.sign({ iss: `${issuer.url}/` }), 'ZT_TOKEN_ISSUER_INVALID');
    await expectRejected(
      issuer.sign({ aud: 'https://other.demo.local' }),
      'ZT_TOKEN_AUDIENCE_INVALID',
    );
    await expectRejected(issuer.sign({}, { omit: ['aud'] }), 'ZT_TOKEN_AUDIENCE_INVALID');
    const ok = await call(api, 'GET', '/me', {
      token: issuer.sign({ aud: ['https://other.demo.local', DEMO_API_AUDIENCE] }),
    });
    expect(ok.status).toBe(200);
  });

  it('requires typ at+jwt (RFC 9068)', async () => {
    await expectRejected(issuer.sign({}, { header: { typ: 'JWT' } }), 'ZT_TOKEN_TYPE_INVALID');
    await expectRejected(issuer.sign({}, { omitHeader: ['typ'] }), 'ZT_TOKEN_TYPE_INVALID');
    await expectRejected(issuer.sign({}, { header: { typ: 'dpop+jwt' } }), 'ZT_TOKEN_TYPE_INVALID');
    const ok = await call(api, 'GET', '/me', {
      token: issuer.sign({}, { header: { typ: 'application/AT+JWT' } }),
    });
    expect(ok.status).toBe(200);
  });

  it('requires exp, iat, sub and jti', async () => {
    for (const claim of ['exp', 'iat', 'sub', 'jti']) {
      await expectRejected(issuer.sign({}, { omit: [claim] }), 'ZT_TOKEN_CLAIM_MISSING');
    }
    await expectRejected(issuer.sign({ exp: 'tomorrow' }), 'ZT_TOKEN_CLAIM_INVALID');
  });

  it('honours exp, nbf and iat, with the clock tolerance', async () => {
    await expectRejected(issuer.sign({ iat: now() - 120, exp: now() - 60 }), 'ZT_TOKEN_EXPIRED');
    await expectRejected(issuer.sign({ nbf: now() + 60 }), 'ZT_TOKEN_NOT_YET_VALID');
    await expectRejected(
      issuer.sign({ iat: now() + 60, exp: now() + 120 }),
      'ZT_TOKEN_ISSUED_IN_FUTURE',
    );
    const withinSkew = await call(api, 'GET', '/me', {
      token: issuer.sign({ iat: now() + 2, exp: now() + 60 }),
    });
    expect(withinSkew.status).toBe(200);
  });

  it('refuses a correctly signed token that lives longer than the maximum lifetime', async () => {
    await expectRejected(
      issuer.sign({ iat: now(), exp: now() + 3600 }),
      'ZT_TOKEN_LIFETIME_EXCEEDED',
    );
    const atLimit = await call(api, 'GET', '/me', {
      token: issuer.sign({ iat: now(), exp: now() + 900 }),
    });
    expect(atLimit.status).toBe(200);
  });

  it('refuses any crit extension', async () => {
    await expectRejected(
      issuer.sign({}, { header: { crit: ['exp'], exp: 1 } }),
      'ZT_TOKEN_CRIT_UNSUPPORTED',
    );
    await expectRejected(issuer.sign({}, { header: { crit: [] } }), 'ZT_TOKEN_CRIT_UNSUPPORTED');
  });

  it('refuses a client-credentials token from a client that is not a registered service', async () => {
    await expectRejected(
      issuer.sign({ sub: 'rogue-service', client_id: 'rogue-service' }),
      'ZT_CLIENT_UNKNOWN',
    );
    const service = await call(api, 'GET', '/me', {
      token: issuer.sign({ sub: 'billing-worker', client_id: 'billing-worker' }),
    });
    expect(service.status).toBe(200);
    expect(service.body).toMatchObject({
      kind: 'service',
      id: 'billing-worker',
      roles: ['billing'],
    });
  });

  it('answers a spray of random kids with 401 and at most one key set fetch', async () => {
    const before = issuer.jwksRequests;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(api, 'GET', '/me', { token: issuer.sign({}, { header: { kid: `spray-${i}` } }) }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 401));
    expect(issuer.jwksRequests - before).toBeLessThanOrEqual(1);
  });

  it('lets public routes through without a token', async () => {
    const response = await call(api, 'GET', '/health');
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('ok');
  });
});
