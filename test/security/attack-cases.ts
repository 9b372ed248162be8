import { createHmac, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import type { ZeroTrustErrorCode } from 'nestjs-zero-trust';
import {
  createDpopKey,
  createDpopProof,
  type DpopKey,
  type DpopProofOptions,
  type TestIssuer,
} from 'nestjs-zero-trust/testing';

/**
 * The hostile-token table of the attack suite. Each case forges one token and names the
 * requirements it exercises (RFC 8725, RFC 9068, RFC 9700, OWASP ASVS 5.0): SECURITY.md maps
 * the ids below to those requirements. Every case must end in 401 `invalid_token`.
 */
export interface AttackCase {
  /** Stable id, cited by SECURITY.md. */
  id: string;
  name: string;
  /** The error codes the library may answer (the first check that fails wins). */
  codes: ZeroTrustErrorCode[];
  /** Builds the token (or the whole Authorization value when `raw`). */
  forge(f: Forge): string | Promise<string>;
  /** The forged value is the full Authorization header, not a bearer token. */
  raw?: boolean;
}

/** What a case may use to forge a token. */
export interface Forge {
  issuer: TestIssuer;
  /** A key pair the attacker owns. */
  attacker: { privateKey: KeyObject; publicKey: KeyObject };
  /** A listener that must never be called (for jku, x5u, payloads). */
  listener: string;
  /** Revokes a jti at the API under test. */
  revoke(jti: string): Promise<void>;
}

export const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

/** Claims that would pass every check, granting the most a forger could wish for. */
function claims(f: Forge, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: f.issuer.url,
    aud: f.issuer.audience,
    sub: 'mallory',
    roles: ['admin'],
    jti: randomUUID(),
    iat: now(),
    exp: now() + 60,
    ...extra,
  };
}

function unsigned(header: Record<string, unknown>, payload: unknown, signature = ''): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

function hmac(f: Forge, alg: 'HS256' | 'HS384' | 'HS512', secret: string | Buffer): string {
  const input = `${b64({ alg, typ: 'at+jwt', kid: f.issuer.kid })}.${b64(claims(f))}`;
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

const issuerKey = (f: Forge): KeyObject =>
  createPublicKey({ key: f.issuer.publicJwk, format: 'jwk' });
const pem = (f: Forge): string => issuerKey(f).export({ format: 'pem', type: 'spki' }).toString();
const der = (f: Forge): Buffer => issuerKey(f).export({ format: 'der', type: 'spki' });
const validSignature = (f: Forge): string => f.issuer.sign().split('.')[2] as string;
const attackerJwk = (f: Forge): Record<string, unknown> => ({
  ...f.attacker.publicKey.export({ format: 'jwk' }),
  kid: f.issuer.kid,
});
/** Signed by the attacker, with `header` added: the issuer's kid stays. */
const byAttacker = (f: Forge, header: Record<string, unknown>): string =>
  f.issuer.sign(claims(f), { header, key: f.attacker.privateKey });
/** P-256 group order n: a signature with r = s = n is as invalid as r = s = 0. */
const P256_N = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';

const NONE_CASINGS = ['none', 'None', 'NONE', 'nOnE'];

/**
 * The table: at least one case per token attack named in issue 6 (DPoP below in
 * {@link DPOP_CASES}; certificate-bound tokens and XFCC in sender-constraint-attacks.e2e-spec.ts).
 */
export const ATTACK_CASES: AttackCase[] = [
  // alg none, every casing, with and without a signature (RFC 8725 §3.1, RFC 9068 §4)
  ...NONE_CASINGS.map((alg, i): AttackCase => ({
    id: `ALG-${String(i + 1).padStart(2, '0')}`,
    name: `alg "${alg}" without a signature`,
    codes: ['ZT_TOKEN_ALGORITHM_REJECTED'],
    forge: (f) => unsigned({ alg, typ: 'at+jwt' }, claims(f)),
  })),
  ...NONE_CASINGS.map((alg, i): AttackCase => ({
    id: `ALG-${String(i + 5).padStart(2, '0')}`,
    name: `alg "${alg}" with a signature of the issuer attached`,
    codes: ['ZT_TOKEN_ALGORITHM_REJECTED'],
    forge: (f) => unsigned({ alg, typ: 'at+jwt', kid: f.issuer.kid }, claims(f), validSignature(f)),
  })),
  {
    id: 'ALG-09',
    name: 'no alg at all',
    codes: ['ZT_TOKEN_ALGORITHM_REJECTED'],
    forge: (f) => unsigned({ typ: 'at+jwt', kid: f.issuer.kid }, claims(f), validSignature(f)),
  },
  {
    id: 'ALG-10',
    name: 'RS256 claimed for the issuer EC key (algorithm bound to the key)',
    codes: ['ZT_TOKEN_KEY_UNKNOWN'],
    forge: (f) => f.issuer.sign(claims(f), { header: { alg: 'RS256' } }),
  },
  // Signatures
  {
    id: 'SIG-01',
    name: 'null (empty) signature',
    codes: ['ZT_TOKEN_SIGNATURE_INVALID'],
    forge: (f) => f.issuer.sign(claims(f)).replace(/[^.]+$/, ''),
  },
  {
    id: 'SIG-02',
    name: 'truncated signature',
    codes: ['ZT_TOKEN_SIGNATURE_INVALID', 'ZT_TOKEN_INVALID'],
    forge: (f) => f.issuer.sign(claims(f)).slice(0, -3),
  },
  {
    id: 'SIG-03',
    name: 'one-byte signature',
    codes: ['ZT_TOKEN_SIGNATURE_INVALID', 'ZT_TOKEN_INVALID'],
    forge: (f) => f.issuer.sign(claims(f)).replace(/[^.]+$/, 'AA'),
  },
  {
    id: 'SIG-04',
    name: 'ES256 with r = s = 0 (CVE-2022-21449, psychic signature)',
    codes: ['ZT_TOKEN_SIGNATURE_INVALID'],
    forge: (f) =>
      unsigned(
        { alg: 'ES256', typ: 'at+jwt', kid: f.issuer.kid },
        claims(f),
        Buffer.alloc(64).toString('base64url'),
      ),
  },
  {
    id: 'SIG-05',
    name: 'ES256 with r = s = n (group order)',
    codes: ['ZT_TOKEN_SIGNATURE_INVALID'],
    forge: (f) =>
      unsigned(
        { alg: 'ES256', typ: 'at+jwt', kid: f.issuer.kid },
        claims(f),
        Buffer.from(P256_N + P256_N, 'hex').toString('base64url'),
      ),
  },
  {
    id: 'SIG-06',
    name: 'payload changed under a valid signature',
    codes: ['ZT_TOKEN_SIGNATURE_INVALID'],
    forge: (f) => {
      const [h, , s] = f.issuer.sign({ sub: 'bob' }).split('.');
      return `${h}.${b64(claims(f))}.${s}`;
    },
  },
  {
    id: 'SIG-07',
    name: 'header changed under a valid signature',
    codes: ['ZT_TOKEN_SIGNATURE_INVALID'],
    forge: (f) => {
      const [, p, s] = f.issuer.sign().split('.');
      return `${b64({ alg: f.issuer.algorithm, kid: f.issuer.kid, typ: 'at+jwt', x: 1 })}.${p}.${s}`;
    },
  },
  {
    id: 'SIG-08',
    name: 'signed by an attacker key under the issuer kid',
    codes: ['ZT_TOKEN_SIGNATURE_INVALID'],
    forge: (f) => byAttacker(f, {}),
  },
  // HMAC with the issuer's public key as the secret (RFC 8725 §2.1, §3.1)
  ...(['HS256', 'HS384', 'HS512'] as const).map((alg): AttackCase => ({
    id: `HMAC-${alg}-PEM`,
    name: `${alg} keyed with the issuer public key as PEM`,
    codes: ['ZT_TOKEN_ALGORITHM_REJECTED'],
    forge: (f) => hmac(f, alg, pem(f)),
  })),
  {
    id: 'HMAC-DER',
    name: 'HS256 keyed with the issuer public key as DER',
    codes: ['ZT_TOKEN_ALGORITHM_REJECTED'],
    forge: (f) => hmac(f, 'HS256', der(f)),
  },
  {
    id: 'HMAC-JWK',
    name: 'HS256 keyed with the issuer public key as JWK JSON',
    codes: ['ZT_TOKEN_ALGORITHM_REJECTED'],
    forge: (f) => hmac(f, 'HS256', JSON.stringify(f.issuer.publicJwk)),
  },
  {
    id: 'HMAC-EMPTY',
    name: 'HS256 with an empty secret',
    codes: ['ZT_TOKEN_ALGORITHM_REJECTED'],
    forge: (f) => hmac(f, 'HS256', ''),
  },
  // Keys named by the token itself (RFC 8725 §3.10, CVE-2018-0114)
  {
    id: 'KEY-JWK',
    name: 'embedded jwk header with the attacker key',
    codes: ['ZT_TOKEN_HEADER_REJECTED'],
    forge: (f) => byAttacker(f, { jwk: attackerJwk(f) }),
  },
  {
    id: 'KEY-JKU',
    name: 'jku header pointing at an attacker listener',
    codes: ['ZT_TOKEN_HEADER_REJECTED'],
    forge: (f) => byAttacker(f, { jku: `${f.listener}/jwks.json` }),
  },
  {
    id: 'KEY-X5U',
    name: 'x5u header pointing at an attacker listener',
    codes: ['ZT_TOKEN_HEADER_REJECTED'],
    forge: (f) => byAttacker(f, { x5u: `${f.listener}/cert.pem` }),
  },
  {
    id: 'KEY-X5C',
    name: 'x5c header carrying the attacker key',
    codes: ['ZT_TOKEN_HEADER_REJECTED'],
    forge: (f) =>
      byAttacker(f, {
        x5c: [f.attacker.publicKey.export({ format: 'der', type: 'spki' }).toString('base64')],
      }),
  },
  {
    id: 'KEY-JKU-KID',
    name: 'jku to the listener with an unknown kid (would trigger a lookup)',
    codes: ['ZT_TOKEN_HEADER_REJECTED'],
    forge: (f) => byAttacker(f, { jku: `${f.listener}/jwks.json`, kid: 'attacker' }),
  },
  // kid as a lookup key only (RFC 8725 §3.10)
  ...(
    [
      ['KID-TRAVERSAL', 'path traversal', '../../../../../../dev/null'],
      ['KID-ABSOLUTE', 'an absolute path', '/dev/null'],
      ['KID-SQL', 'SQL injection', "x' UNION SELECT 'secret' --"],
      ['KID-SHELL', 'shell injection', '$(curl LISTENER/kid)'],
      ['KID-BACKTICK', 'shell backticks', '`curl LISTENER/kid`|nc 127.0.0.1 9'],
      ['KID-HUGE', 'a 4000-character kid', 'k'.repeat(4000)],
    ] as const
  ).map(([id, what, kid]): AttackCase => ({
    id,
    name: `kid with ${what}`,
    codes: ['ZT_TOKEN_KEY_UNKNOWN'],
    forge: (f) => byAttacker(f, { kid: kid.replace('LISTENER', f.listener) }),
  })),
  {
    id: 'KID-EMPTY',
    name: 'empty kid',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: (f) => byAttacker(f, { kid: '' }),
  },
  {
    id: 'KID-NUMBER',
    name: 'kid that is not a string',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: (f) => byAttacker(f, { kid: 0 }),
  },
  // Structure (compact serialization only; RFC 8725 §3.11 / bis "check JWT format")
  {
    id: 'FMT-2SEG',
    name: 'missing segment (two segments)',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: (f) => f.issuer.sign().split('.').slice(0, 2).join('.'),
  },
  {
    id: 'FMT-4SEG',
    name: 'extra segment (four segments)',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: (f) => `${f.issuer.sign()}.AAAA`,
  },
  {
    id: 'FMT-EMPTY-HEADER',
    name: 'empty header segment',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: (f) => f.issuer.sign().replace(/^[^.]+/, ''),
  },
  {
    id: 'FMT-EMPTY-PAYLOAD',
    name: 'empty payload segment',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: (f) => f.issuer.sign().replace(/\.[^.]+\./, '..'),
  },
  {
    id: 'FMT-DOTS',
    name: 'only dots',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: () => '..',
  },
  {
    id: 'FMT-EMPTY',
    name: 'Bearer scheme with no token',
    codes: ['ZT_TOKEN_MALFORMED'],
    raw: true,
    forge: () => 'Bearer ',
  },
  {
    id: 'FMT-JSON-FLAT',
    name: 'JWS JSON serialization (flattened)',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: (f) => {
      const [h, p, s] = f.issuer.sign().split('.');
      return JSON.stringify({ payload: p, protected: h, signature: s });
    },
  },
  {
    id: 'FMT-JSON-GENERAL',
    name: 'JWS JSON serialization (general)',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: (f) => {
      const [h, p, s] = f.issuer.sign().split('.');
      return JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] });
    },
  },
  {
    id: 'FMT-JWE',
    name: 'a JWE (five segments)',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: () =>
      [
        b64({ alg: 'RSA-OAEP-256', enc: 'A256GCM', typ: 'at+jwt' }),
        'AAAA',
        'AAAA',
        'AAAA',
        'AAAA',
      ].join('.'),
  },
  {
    id: 'FMT-PADDING',
    name: 'base64 padding and non-url alphabet',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: (f) => {
      const [h, p, s] = f.issuer.sign().split('.');
      return `${h}==.${p}.${(s as string).replace(/-/g, '+')}/`;
    },
  },
  {
    id: 'FMT-HEADER-ARRAY',
    name: 'a header that is a JSON array',
    codes: ['ZT_TOKEN_MALFORMED'],
    forge: (f) => unsigned(['ES256'] as unknown as Record<string, unknown>, claims(f), 'AAAA'),
  },
  {
    id: 'FMT-BIG-HEADER',
    name: 'a 7 KiB JOSE header (above the 8 KiB token size cap once encoded)',
    codes: ['ZT_TOKEN_TOO_LARGE'],
    forge: (f) => byAttacker(f, { pad: 'x'.repeat(7 * 1024) }),
  },
  // crit (RFC 7515 §4.1.11, RFC 8725 §3.1)
  {
    id: 'CRIT-UNKNOWN',
    name: 'unknown crit extension',
    codes: ['ZT_TOKEN_CRIT_UNSUPPORTED'],
    forge: (f) => f.issuer.sign(claims(f), { header: { crit: ['urn:x-evil'], 'urn:x-evil': 1 } }),
  },
  {
    id: 'CRIT-B64',
    name: 'crit b64=false (unencoded payload)',
    codes: ['ZT_TOKEN_CRIT_UNSUPPORTED', 'ZT_TOKEN_MALFORMED'],
    forge: (f) => f.issuer.sign(claims(f), { header: { crit: ['b64'], b64: false } }),
  },
  // Token type (RFC 9068 §2.1, §4; RFC 8725 §3.11)
  {
    id: 'TYP-JWT',
    name: 'typ JWT (an ID token shape)',
    codes: ['ZT_TOKEN_TYPE_INVALID'],
    forge: (f) => f.issuer.sign(claims(f), { header: { typ: 'JWT' } }),
  },
  {
    id: 'TYP-MISSING',
    name: 'no typ',
    codes: ['ZT_TOKEN_TYPE_INVALID'],
    forge: (f) => f.issuer.sign(claims(f), { omitHeader: ['typ'] }),
  },
  {
    id: 'TYP-DPOP',
    name: 'a DPoP proof presented as an access token',
    codes: ['ZT_TOKEN_TYPE_INVALID', 'ZT_TOKEN_HEADER_REJECTED'],
    forge: (f) =>
      f.issuer.sign(
        { htm: 'GET', htu: 'http://127.0.0.1/me', jti: randomUUID(), iat: now() },
        { header: { typ: 'dpop+jwt', jwk: attackerJwk(f) }, key: f.attacker.privateKey },
      ),
  },
  // Time (RFC 9068 §4, RFC 8725 §3.10 bis, RFC 7519 §4.1.4-4.1.6)
  {
    id: 'TIME-EXPIRED',
    name: 'expired',
    codes: ['ZT_TOKEN_EXPIRED'],
    forge: (f) => f.issuer.sign(claims(f, { iat: now() - 600, exp: now() - 60 })),
  },
  {
    id: 'TIME-NBF',
    name: 'nbf in the future',
    codes: ['ZT_TOKEN_NOT_YET_VALID'],
    forge: (f) => f.issuer.sign(claims(f, { nbf: now() + 120 })),
  },
  {
    id: 'TIME-IAT',
    name: 'iat in the future',
    codes: ['ZT_TOKEN_ISSUED_IN_FUTURE'],
    forge: (f) => f.issuer.sign(claims(f, { iat: now() + 120, exp: now() + 180 })),
  },
  {
    id: 'TIME-LIFETIME',
    name: 'lifetime above the maximum (one day)',
    codes: ['ZT_TOKEN_LIFETIME_EXCEEDED'],
    forge: (f) => f.issuer.sign(claims(f, { exp: now() + 86_400 })),
  },
  {
    id: 'TIME-EXP-STRING',
    name: 'exp that is not a number',
    codes: ['ZT_TOKEN_CLAIM_INVALID'],
    forge: (f) => f.issuer.sign(claims(f, { exp: 'never' })),
  },
  // Required claims (RFC 9068 §2.2)
  ...(['exp', 'jti', 'iat', 'sub'] as const).map((claim): AttackCase => ({
    id: `CLAIM-NO-${claim.toUpperCase()}`,
    name: `missing ${claim}`,
    codes: ['ZT_TOKEN_CLAIM_MISSING'],
    forge: (f) => f.issuer.sign(claims(f), { omit: [claim] }),
  })),
  // Issuer and audience (RFC 9068 §4, RFC 8725 §3.8/§3.9, RFC 9700 §2.3)
  {
    id: 'ISS-WRONG',
    name: 'wrong iss',
    codes: ['ZT_TOKEN_ISSUER_INVALID'],
    forge: (f) => f.issuer.sign(claims(f, { iss: 'https://idp.attacker.example' })),
  },
  {
    id: 'ISS-SLASH',
    name: 'iss with a trailing slash',
    codes: ['ZT_TOKEN_ISSUER_INVALID'],
    forge: (f) => f.issuer.sign(claims(f, { iss: `${f.issuer.url}/` })),
  },
  {
    id: 'AUD-FOREIGN',
    name: 'foreign aud (a token for another resource server)',
    codes: ['ZT_TOKEN_AUDIENCE_INVALID'],
    forge: (f) => f.issuer.sign(claims(f, { aud: 'https://payments.demo.local' })),
  },
  {
    id: 'AUD-MISSING',
    name: 'no aud',
    codes: ['ZT_TOKEN_AUDIENCE_INVALID'],
    forge: (f) => f.issuer.sign(claims(f), { omit: ['aud'] }),
  },
  // Revocation and service identities
  {
    id: 'REVOKED-JTI',
    name: 'a revoked jti',
    codes: ['ZT_TOKEN_REVOKED'],
    forge: async (f) => {
      const jti = randomUUID();
      await f.revoke(jti);
      return f.issuer.sign(claims(f, { jti }));
    },
  },
  {
    id: 'SVC-UNREGISTERED',
    name: 'client credentials of a client that is not a registered service',
    codes: ['ZT_CLIENT_UNKNOWN'],
    forge: (f) => f.issuer.sign(claims(f, { sub: 'rogue-service', client_id: 'rogue-service' })),
  },
  {
    id: 'SVC-MISMATCH',
    name: "one service's identity (sub) in a token issued to another client",
    codes: ['ZT_CLIENT_MISMATCH'],
    forge: (f) =>
      f.issuer.sign(claims(f, { sub: 'billing-worker', client_id: 'reporting-service' })),
  },
  {
    id: 'SVC-NO-CLIENT',
    name: "a service's identity (sub) with no client_id",
    codes: ['ZT_CLIENT_MISMATCH'],
    forge: (f) => f.issuer.sign(claims(f, { sub: 'billing-worker' })),
  },
];

/** One request of a sender-constraint attack: the Authorization header and any other header. */
export interface AttackRequest {
  authorization: string;
  headers?: Record<string, string | string[]>;
}

/**
 * A DPoP attack (RFC 9449) against the demo API over HTTP: `requests` are sent in order, every
 * one but the last must be accepted (a legitimate use the attacker observed), the last refused.
 */
export interface DpopAttackCase {
  id: string;
  name: string;
  codes: ZeroTrustErrorCode[];
  /** The RFC 9449 error of the `DPoP` challenge. */
  error: 'invalid_dpop_proof' | 'invalid_token';
  /** The OWASP action of the deny event. @default 'authn_token_invalid' */
  action?: string;
  requests(f: Forge & { url: string }): AttackRequest[];
}

/** A token bound to `key` (cnf.jkt) and a fresh proof of that key for GET `url`/me. */
function dpopUse(
  f: Forge & { url: string },
  key: DpopKey,
  proof: Partial<DpopProofOptions> = {},
  token = f.issuer.sign(claims(f, { sub: 'alice', roles: [], cnf: { jkt: key.jkt } })),
): AttackRequest {
  return {
    authorization: `DPoP ${token}`,
    headers: {
      dpop: createDpopProof({
        key,
        method: 'GET',
        url: `${f.url}/me`,
        accessToken: token,
        ...proof,
      }),
    },
  };
}

/** The DPoP table: a bound token and proofs that must never pass (RFC 9449 §4.3, §7.2). */
export const DPOP_CASES: DpopAttackCase[] = [
  {
    id: 'DPOP-AS-BEARER',
    name: 'a DPoP-bound token (cnf.jkt) sent with the Bearer scheme',
    codes: ['ZT_DPOP_BOUND_TOKEN_AS_BEARER'],
    error: 'invalid_token',
    requests: (f) => {
      const key = createDpopKey();
      const token = f.issuer.sign(claims(f, { cnf: { jkt: key.jkt } }));
      return [{ authorization: `Bearer ${token}` }];
    },
  },
  {
    id: 'DPOP-REPLAY',
    name: 'a proof replayed after a legitimate use',
    codes: ['ZT_DPOP_REPLAY'],
    error: 'invalid_dpop_proof',
    action: 'authn_token_reuse',
    requests: (f) => {
      const used = dpopUse(f, createDpopKey());
      return [used, used];
    },
  },
  {
    id: 'DPOP-HTM-HTU',
    name: 'a proof for another method and URL',
    codes: ['ZT_DPOP_PROOF_INVALID'],
    error: 'invalid_dpop_proof',
    requests: (f) => [dpopUse(f, createDpopKey(), { method: 'POST', url: `${f.url}/invoices` })],
  },
  {
    id: 'DPOP-ATH',
    name: "a proof whose ath is another token's hash",
    codes: ['ZT_DPOP_PROOF_INVALID'],
    error: 'invalid_dpop_proof',
    requests: (f) => [dpopUse(f, createDpopKey(), { accessToken: f.issuer.sign() })],
  },
  {
    id: 'DPOP-IAT',
    name: 'a proof issued 10 minutes ago (outside the iat window)',
    codes: ['ZT_DPOP_PROOF_INVALID'],
    error: 'invalid_dpop_proof',
    requests: (f) => [dpopUse(f, createDpopKey(), { iat: now() - 600 })],
  },
  {
    id: 'DPOP-TWO-HEADERS',
    name: 'two DPoP headers',
    codes: ['ZT_DPOP_PROOF_INVALID'],
    error: 'invalid_dpop_proof',
    requests: (f) => {
      const key = createDpopKey();
      const first = dpopUse(f, key);
      const second = createDpopProof({ key, method: 'GET', url: `${f.url}/me` });
      return [{ ...first, headers: { dpop: [first.headers?.dpop as string, second] } }];
    },
  },
  {
    id: 'DPOP-PRIVATE-JWK',
    name: 'a proof carrying the private key in its jwk header',
    codes: ['ZT_DPOP_PROOF_INVALID'],
    error: 'invalid_dpop_proof',
    requests: (f) => {
      const key = createDpopKey();
      return [dpopUse(f, key, { header: { jwk: key.privateKey.export({ format: 'jwk' }) } })];
    },
  },
  {
    id: 'DPOP-OTHER-KEY',
    name: 'a valid proof of another key than the one the token is bound to',
    codes: ['ZT_DPOP_BINDING_MISMATCH'],
    error: 'invalid_dpop_proof',
    requests: (f) => {
      const token = f.issuer.sign(claims(f, { cnf: { jkt: createDpopKey().jkt } }));
      return [dpopUse(f, createDpopKey(), {}, token)];
    },
  },
  {
    id: 'DPOP-UNBOUND',
    name: 'the DPoP scheme with a token that is not bound to a key',
    codes: ['ZT_DPOP_TOKEN_UNBOUND'],
    error: 'invalid_token',
    requests: (f) => [dpopUse(f, createDpopKey(), {}, f.issuer.sign(claims(f)))],
  },
];
