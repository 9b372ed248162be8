import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { inspect } from 'node:util';
import { compact } from '../utils/compact.js';
import { ERROR_MESSAGES, type ZeroTrustErrorCode } from './messages.js';

/** The body every zero-trust error answers with. @publicApi */
export interface ZeroTrustErrorBody {
  /** HTTP status code. */
  statusCode: number;
  /** HTTP reason phrase. */
  error: string;
  /** Stable machine-readable code, e.g. `ZT_TOKEN_EXPIRED`. */
  code: ZeroTrustErrorCode;
  /** A reason safe to show to the caller. */
  message: string;
  /** Fields refused by a field-level check (only for `ZT_FIELDS_DENIED`). */
  fields?: string[];
  /** Why access was denied, in development only (`monitoring.explainDenials`). */
  explanation?: string;
  /** Step-up: the authentication context class(es) to reach (only for `ZT_STEP_UP_REQUIRED`). */
  acr_values?: string;
  /** Step-up: the maximum age in seconds of the authentication. */
  max_age?: number;
}

/** Base class of every error the library throws, with a stable code. @publicApi */
export class ZeroTrustError extends HttpException {
  /** The stable code of this error. */
  readonly code: ZeroTrustErrorCode;

  constructor(
    code: ZeroTrustErrorCode,
    status: number,
    options: { message?: string; cause?: unknown; extra?: Partial<ZeroTrustErrorBody> } = {},
  ) {
    const message = options.message ?? ERROR_MESSAGES[code];
    // Node's reason phrases, as Nest's own bodies (429 "Too Many Requests").
    const error = STATUS_CODES[status] ?? 'Error';
    super({ statusCode: status, error, code, message, ...options.extra }, status, {
      cause: options.cause,
    });
    this.code = code;
    this.message = message;
    this.name = new.target.name;
  }

  /** The value of the `WWW-Authenticate` response header, if this error calls for one. */
  get challenge(): string | undefined {
    return undefined;
  }
}

/** An error's message, or the thrown value as text: what a log line says of a failure. @internal */
export const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** A quoted-string for an RFC 6750 challenge: its grammar allows neither `"` nor `\\`. */
function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?')}"`;
}

/** An RFC 6750 §3 challenge with `error` and the error's message as its description. */
function challengeOf(scheme: string, error: string, message: string): string {
  return `${scheme} error="${error}", error_description=${quoted(message)}`;
}

/** No bearer token was presented: 401 with a bare challenge (RFC 6750 §3.1). @publicApi */
export class MissingTokenError extends ZeroTrustError {
  /** @param challenges - `Bearer`, or also `DPoP algs="..."` when DPoP is accepted */
  constructor(private readonly challenges = 'Bearer') {
    super('ZT_TOKEN_MISSING', HttpStatus.UNAUTHORIZED);
  }

  override get challenge(): string {
    return this.challenges;
  }
}

/** The presented token failed a check: 401 with `error="invalid_token"` (RFC 6750). @publicApi */
export class InvalidTokenError extends ZeroTrustError {
  constructor(
    code: ZeroTrustErrorCode = 'ZT_TOKEN_INVALID',
    options: { message?: string; cause?: unknown } = {},
  ) {
    super(code, HttpStatus.UNAUTHORIZED, options);
  }

  override get challenge(): string {
    return challengeOf('Bearer', 'invalid_token', this.message);
  }
}

/** A token presented more than one way, or an unsupported one: 400 `invalid_request`. @publicApi */
export class InvalidRequestError extends ZeroTrustError {
  constructor(code: 'ZT_AMBIGUOUS_CREDENTIALS' | 'ZT_TOKEN_METHOD_UNSUPPORTED') {
    super(code, HttpStatus.BAD_REQUEST);
  }

  override get challenge(): string {
    return challengeOf('Bearer', 'invalid_request', this.message);
  }
}

/** A DPoP failure (RFC 9449 §7.1): 401 with a `DPoP` challenge. @publicApi */
export class DpopError extends ZeroTrustError {
  /** The RFC 9449 error code of the challenge. */
  readonly error: 'invalid_dpop_proof' | 'invalid_token';

  constructor(
    code: ZeroTrustErrorCode,
    /** The proof algorithms accepted, for the `algs` parameter of the challenge. */
    readonly algorithms: readonly string[],
    options: { message?: string; cause?: unknown; error?: DpopError['error'] } = {},
  ) {
    super(code, HttpStatus.UNAUTHORIZED, options);
    this.error = options.error ?? 'invalid_dpop_proof';
  }

  override get challenge(): string {
    return `${challengeOf('DPoP', this.error, this.message)}, algs="${this.algorithms.join(' ')}"`;
  }
}

/** The principal may not perform the action: 403. @publicApi */
export class AccessDeniedError extends ZeroTrustError {
  constructor(
    code: 'ZT_ACCESS_DENIED' | 'ZT_FIELDS_DENIED' | 'ZT_POLICY_MISSING' = 'ZT_ACCESS_DENIED',
    /** Fields refused by a field-level check, if that is why access was denied. */
    readonly fields?: string[],
    explanation?: string,
  ) {
    super(code, HttpStatus.FORBIDDEN, {
      message: fields ? `${ERROR_MESSAGES[code]}: ${fields.join(', ')}` : undefined,
      extra: compact({ fields, explanation }),
    });
  }
}

/** The token lacks a scope the route requires: 403 `insufficient_scope` (RFC 6750). @publicApi */
export class InsufficientScopeError extends ZeroTrustError {
  /** @param scopes - the scopes the route requires, named in the challenge's `scope` */
  constructor(readonly scopes: readonly string[]) {
    super('ZT_INSUFFICIENT_SCOPE', HttpStatus.FORBIDDEN);
  }

  override get challenge(): string {
    const scope = quoted(this.scopes.join(' '));
    return `${challengeOf('Bearer', 'insufficient_scope', this.message)}, scope=${scope}`;
  }
}

/** The caller made more requests than its rate limit allows: 429, with `Retry-After`. @publicApi */
export class RateLimitedError extends ZeroTrustError {
  /** @param retryAfter - seconds after which the caller may try again, when known */
  constructor(readonly retryAfter?: number) {
    super('ZT_RATE_LIMITED', HttpStatus.TOO_MANY_REQUESTS);
  }
}

/** A resolver found no record for the route: 404, never a type-level fallback. @publicApi */
export class ResourceNotFoundError extends ZeroTrustError {
  constructor() {
    super('ZT_RESOURCE_NOT_FOUND', HttpStatus.NOT_FOUND);
  }
}

/** Something the decision depends on failed: 503 rather than allowed (fail closed). @publicApi */
export class DependencyUnavailableError extends ZeroTrustError {
  constructor(
    code:
      | 'ZT_KEYS_UNAVAILABLE'
      | 'ZT_STORE_UNAVAILABLE'
      | 'ZT_RESOLVER_FAILED'
      | 'ZT_POLICY_FAILED'
      | 'ZT_PDP_UNAVAILABLE'
      | 'ZT_RISK_UNAVAILABLE',
    cause?: unknown,
  ) {
    super(code, HttpStatus.SERVICE_UNAVAILABLE, { cause });
  }
}

/** A store that must never drop an unexpired entry is full: 503 `ZT_STORE_FULL`. @publicApi */
export class StoreFullError extends ZeroTrustError {
  constructor(
    /** What the full store holds: one-time values (`replay`) or `revocation`s. */
    readonly concern: 'replay' | 'revocation',
    /** The budget that is full (entries), when known. */
    readonly limit?: number,
    /** Seconds after which room is expected to free up, when known. */
    readonly retryAfter?: number,
  ) {
    super('ZT_STORE_FULL', HttpStatus.SERVICE_UNAVAILABLE);
  }
}

/** An outgoing token request failed or was refused: 503, naming no secret. @publicApi */
export class TokenRequestError extends ZeroTrustError {
  /** The OAuth 2.0 `error` code the identity provider answered with, if any. */
  readonly oauthError: string | undefined;

  constructor(
    code: 'ZT_TOKEN_ENDPOINT_UNAVAILABLE' | 'ZT_TOKEN_REQUEST_REFUSED',
    detail: string,
    options: { oauthError?: string; cause?: unknown } = {},
  ) {
    super(code, HttpStatus.SERVICE_UNAVAILABLE, {
      message: `${ERROR_MESSAGES[code]}: ${detail}`,
      cause: options.cause,
    });
    this.oauthError = options.oauthError;
  }
}

/** The request is too risky to serve: 403 `ZT_RISK_DENIED`. @publicApi */
export class RiskDeniedError extends ZeroTrustError {
  constructor() {
    super('ZT_RISK_DENIED', HttpStatus.FORBIDDEN);
  }
}

/** The request needs a recent, stronger authentication (RFC 9470): 401. @publicApi */
export class StepUpRequiredError extends ZeroTrustError {
  constructor(
    /** The authentication context class(es) to reach, space-separated, if any. */
    readonly acrValues: string | undefined,
    /** The maximum age in seconds of the authentication, if any. */
    readonly maxAge: number | undefined,
  ) {
    super('ZT_STEP_UP_REQUIRED', HttpStatus.UNAUTHORIZED, {
      extra: compact({ acr_values: acrValues, max_age: maxAge }),
    });
  }

  override get challenge(): string {
    let value = challengeOf('Bearer', 'insufficient_user_authentication', this.message);
    if (this.acrValues !== undefined) value += `, acr_values=${quoted(this.acrValues)}`;
    if (this.maxAge !== undefined) value += `, max_age=${Math.floor(this.maxAge)}`;
    return value;
  }
}

/** The module is misconfigured: thrown at boot, listing every problem at once. @publicApi */
export class ZeroTrustConfigurationError extends ZeroTrustError {
  constructor(
    code: 'ZT_OPTIONS_INVALID' | 'ZT_ROUTES_UNPROTECTED' | 'ZT_ROUTE_POLICY_INVALID',
    /** Each problem found, one line each. */
    readonly problems: string[],
  ) {
    super(code, HttpStatus.INTERNAL_SERVER_ERROR, {
      message: `${ERROR_MESSAGES[code]}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    });
    // Serialized (a JSON log), a boot error is its code and problems, not an HTTP 500.
    for (const key of ['response', 'status', 'options'])
      if (Object.hasOwn(this, key)) Object.defineProperty(this, key, { enumerable: false });
  }

  /** Printed (Nest's logger, Node's uncaught-error handler) as a plain error with its problems. */
  [inspect.custom](): string {
    const frames = (this.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
    return [`${this.name} [${this.code}]: ${this.message}`, ...frames].join('\n');
  }
}
