import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import { contextOf, targetOf, type HttpRequestLike } from '../context/request-context.js';
import {
  DpopError,
  InvalidRequestError,
  InvalidTokenError,
  MissingTokenError,
  type ZeroTrustError,
} from '../errors/zero-trust.error.js';
import type { ZeroTrustErrorCode } from '../errors/messages.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { REPLAY_KEY_PREFIX, SharedStateStore } from '../stores/shared-state-store.interface.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { checkDpopProof, expectedHtus } from './dpop/dpop-proof.js';
import {
  presentedCertificate,
  serviceIdentityOf,
  type PresentedCertificate,
} from './mtls/client-certificate.js';
import type { Principal } from './principal.interface.js';
import { storeCall } from './revocation.service.js';

/** The credentials a request presents. @internal */
export interface PresentedCredentials {
  readonly scheme: 'Bearer' | 'DPoP';
  readonly token: string;
  /** The client certificate, read here when `mtls` is configured. */
  readonly certificate?: PresentedCertificate | undefined;
}

const AUTHORIZATION = /^(Bearer|DPoP) +([^\s]+) *$/i;
const SCHEME = /^(bearer|dpop)(\s|$)/i;
const SAFE_JTI = /^[A-Za-z0-9._~-]{1,128}$/;
const FORM = /^application\/x-www-form-urlencoded\b/i;
/** RFC 6750 §2.2 and §2.3: the form-body and query parameter of an access token. */
const ACCESS_TOKEN = 'access_token';

/** How many times the request carries header `name`: Node keeps only the first `Authorization`. */
function headerCount(request: HttpRequestLike, name: string): number {
  const raw = request.rawHeaders ?? request.raw?.rawHeaders;
  if (!Array.isArray(raw)) return request.headers[name] === undefined ? 0 : 1;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === name) count++;
  return count;
}

/** Whether an `access_token` is in the request target, the parsed query or a form body. */
function carriesTokenParameter(request: HttpRequestLike): boolean {
  const target = targetOf(request) ?? '';
  const start = target.indexOf('?');
  const query = start < 0 ? undefined : target.slice(start + 1).split('#')[0];
  const has = (record: unknown): boolean =>
    typeof record === 'object' && record !== null && Object.hasOwn(record, ACCESS_TOKEN);
  // `access_token[]=` (or `[0]`) too, which some query parsers read as the same parameter.
  const named = (key: string) => key === ACCESS_TOKEN || key.startsWith(`${ACCESS_TOKEN}[`);
  return (
    (query !== undefined &&
      ([...new URLSearchParams(query).keys()].some(named) || has(request.query))) ||
    (FORM.test(String(request.headers['content-type'])) && has(request.body))
  );
}

/** The scheme an `Authorization` header names, lower-cased, if it is one this library reads. */
function schemeOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' ? SCHEME.exec(header)?.[1]?.toLowerCase() : undefined;
}

/** Sender-constrained tokens (mTLS RFC 8705, DPoP RFC 9449) and service identity. @internal */
@Injectable()
export class SenderConstraints {
  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    @Inject(SharedStateStore) private readonly state: SharedStateStore,
    private readonly metrics: ZeroTrustMetrics,
  ) {}

  /**
   * Reads the `Authorization` header and, with `mtls`, the client certificate. Credentials sent
   * more than one way (RFC 6750 §2), or as an `access_token` parameter, are refused first: a proxy
   * or a log could see one caller while this one authenticates another.
   */
  credentials(request: HttpRequestLike): PresentedCredentials {
    const header = request.headers.authorization;
    const authorizations = headerCount(request, 'authorization');
    if (authorizations > 1) throw new InvalidRequestError('ZT_AMBIGUOUS_CREDENTIALS');
    if (carriesTokenParameter(request))
      throw new InvalidRequestError(
        authorizations === 0 ? 'ZT_TOKEN_METHOD_UNSUPPORTED' : 'ZT_AMBIGUOUS_CREDENTIALS',
      );
    const scheme = schemeOf(header);
    if (scheme === 'bearer' && headerCount(request, 'dpop') > 0)
      throw new InvalidRequestError('ZT_AMBIGUOUS_CREDENTIALS');
    const certificate = this.options.mtls === undefined ? undefined : this.certificateOf(request);
    const dpop = this.options.dpop;
    if (scheme === undefined || (scheme === 'dpop' && dpop === undefined)) {
      const challenge = `DPoP algs="${dpop?.algorithms.join(' ')}"`;
      throw new MissingTokenError(
        dpop === undefined ? 'Bearer' : dpop.required ? challenge : `Bearer, ${challenge}`,
      );
    }
    const token = AUTHORIZATION.exec(header as string)?.[2];
    if (token === undefined) throw new InvalidTokenError('ZT_TOKEN_MALFORMED');
    if (scheme === 'bearer' && dpop?.required) throw this.tokenError('ZT_DPOP_TOKEN_UNBOUND');
    return { scheme: scheme === 'dpop' ? 'DPoP' : 'Bearer', token, certificate };
  }

  /** Checks the bindings of a verified token to the request: certificate, service, DPoP proof. */
  async check(
    request: HttpRequestLike,
    presented: PresentedCredentials,
    principal: Principal,
  ): Promise<void> {
    const x5t = principal.token.cnf?.['x5t#S256'];
    const jkt = principal.token.cnf?.jkt;
    const { mtls, dpop } = this.options;
    // Without `mtls`, the certificate is read only for a token bound to one.
    const certificate =
      mtls !== undefined || x5t === undefined ? presented.certificate : this.certificateOf(request);
    if (x5t !== undefined) {
      if (certificate === undefined) throw new InvalidTokenError('ZT_CERTIFICATE_REQUIRED');
      if (x5t !== certificate.thumbprint) throw new InvalidTokenError('ZT_CERTIFICATE_MISMATCH');
    }
    if (mtls !== undefined && principal.kind === 'service') {
      if (certificate === undefined) {
        if (mtls.requireForServices) throw new InvalidTokenError('ZT_CERTIFICATE_REQUIRED');
      } else if (certificate.service !== principal.id) {
        throw new InvalidTokenError('ZT_CERTIFICATE_SERVICE_MISMATCH');
      }
    }
    // RFC 9449 §7.2; without DPoP support the token can never be used here.
    if (presented.scheme === 'Bearer' && jkt !== undefined)
      throw this.tokenError('ZT_DPOP_BOUND_TOKEN_AS_BEARER');
    if (presented.scheme === 'Bearer') return;
    if (dpop === undefined) throw new MissingTokenError();
    if (typeof jkt !== 'string' || jkt.length === 0) throw this.tokenError('ZT_DPOP_TOKEN_UNBOUND');
    const checked = await checkDpopProof(
      this.proofOf(request, dpop.algorithms),
      {
        method: request.method ?? '',
        htus: expectedHtus(request, dpop.publicUrls),
        accessToken: presented.token,
        now: Math.floor(Date.now() / 1000),
      },
      dpop,
    );
    if (checked.jkt !== jkt) throw new DpopError('ZT_DPOP_BINDING_MISMATCH', dpop.algorithms);
    const jti = SAFE_JTI.test(checked.jti)
      ? checked.jti
      : `h.${createHash('sha256').update(checked.jti).digest('base64url')}`;
    // A `replay:` key, never evicted before it expires. `jkt` is base64url and `jti` safe or
    // hashed: neither holds the separator.
    const key = `${REPLAY_KEY_PREFIX}dpop:${jkt}:${jti}`;
    const ttl = dpop.iatWindow + dpop.clockTolerance;
    const first = await storeCall(() => this.state.claimOnce(key, ttl), this.metrics, 'dpop');
    if (!first) throw new DpopError('ZT_DPOP_REPLAY', dpop.algorithms);
    contextOf(request).dpop = { jkt };
  }

  /** The error to answer with: under the DPoP scheme, a token problem's challenge is `DPoP`. */
  challengeFor(request: HttpRequestLike, error: ZeroTrustError): ZeroTrustError {
    return schemeOf(request.headers.authorization) === 'dpop' && error instanceof InvalidTokenError
      ? this.tokenError(error.code, error)
      : error;
  }

  /** A token problem; with DPoP on, `invalid_token` under a `DPoP` challenge (RFC 9449 §7.1). */
  private tokenError(code: ZeroTrustErrorCode, cause?: ZeroTrustError): ZeroTrustError {
    const dpop = this.options.dpop;
    if (dpop === undefined) return cause ?? new InvalidTokenError(code);
    const options = { message: cause?.message, error: 'invalid_token', cause } as const;
    return new DpopError(code, dpop.algorithms, options);
  }

  /** The single `DPoP` header. RFC 9449 §4.3: a repeated one is an invalid proof (401). */
  private proofOf(request: HttpRequestLike, algorithms: readonly string[]): string {
    const value = request.headers.dpop;
    if (value === undefined || value === '')
      throw new DpopError('ZT_DPOP_PROOF_MISSING', algorithms);
    if (headerCount(request, 'dpop') > 1 || typeof value !== 'string' || value.includes(','))
      throw new DpopError('ZT_DPOP_PROOF_INVALID', algorithms, {
        message: 'Exactly one DPoP header is allowed',
      });
    return value;
  }

  /** The request's client certificate; with `mtls`, an X.509-SVID of the domain. */
  private certificateOf(request: HttpRequestLike): PresentedCertificate | undefined {
    const { mtls, trustedProxies } = this.options;
    const facts = presentedCertificate(request, mtls?.source ?? 'socket', trustedProxies);
    if (facts === undefined) return undefined;
    const certificate =
      mtls === undefined
        ? { thumbprint: facts.thumbprint, source: facts.source }
        : serviceIdentityOf(facts, mtls);
    contextOf(request).certificate = certificate;
    return certificate;
  }
}
