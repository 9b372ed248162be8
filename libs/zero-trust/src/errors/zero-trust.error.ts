import { HttpException, HttpStatus } from '@nestjs/common';
import { ERROR_MESSAGES, type ZeroTrustErrorCode } from './messages.js';

/**
 * The body every zero-trust error answers with.
 *
 * @publicApi
 */
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
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Base class of every error the library throws, with a stable {@link ZeroTrustErrorCode}.
 *
 * It extends Nest's `HttpException`, so any exception filter that knows `HttpException` answers
 * with the right status. The message never contains a token, a key or a rule's internals.
 *
 * @publicApi
 */
export class ZeroTrustError extends HttpException {
  /** The stable code of this error. */
  readonly code: ZeroTrustErrorCode;

  constructor(
    code: ZeroTrustErrorCode,
    status: number,
    options: { message?: string; cause?: unknown; extra?: Partial<ZeroTrustErrorBody> } = {},
  ) {
    const message = options.message ?? ERROR_MESSAGES[code];
    const body: ZeroTrustErrorBody = {
      statusCode: status,
      error: REASONS[status] ?? 'Error',
      code,
      message,
      ...options.extra,
    };
    super(body, status, { cause: options.cause });
    this.code = code;
    this.message = message;
    this.name = new.target.name;
  }

  /** The value of the `WWW-Authenticate` response header, if this error calls for one. */
  get challenge(): string | undefined {
    return undefined;
  }
}

/** A quoted-string for an RFC 6750 challenge: its grammar allows neither `"` nor `\\`. */
function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?')}"`;
}

/**
 * No bearer token was presented: 401 with a bare `Bearer` challenge (RFC 6750 §3.1).
 *
 * @publicApi
 */
export class MissingTokenError extends ZeroTrustError {
  constructor() {
    super('ZT_TOKEN_MISSING', HttpStatus.UNAUTHORIZED);
  }

  override get challenge(): string {
    return 'Bearer';
  }
}

/**
 * The presented token failed a check: 401 with `error="invalid_token"` (RFC 6750 §3.1).
 *
 * @publicApi
 */
export class InvalidTokenError extends ZeroTrustError {
  constructor(
    code: ZeroTrustErrorCode = 'ZT_TOKEN_INVALID',
    options: { message?: string; cause?: unknown } = {},
  ) {
    super(code, HttpStatus.UNAUTHORIZED, options);
  }

  override get challenge(): string {
    return `Bearer error="invalid_token", error_description=${quoted(this.message)}`;
  }
}

/**
 * The principal may not perform the action: 403.
 *
 * @publicApi
 */
export class AccessDeniedError extends ZeroTrustError {
  /** Fields refused by a field-level check, if that is why access was denied. */
  readonly fields: readonly string[] | undefined;

  constructor(
    code: 'ZT_ACCESS_DENIED' | 'ZT_FIELDS_DENIED' | 'ZT_POLICY_MISSING' = 'ZT_ACCESS_DENIED',
    fields?: string[],
  ) {
    super(code, HttpStatus.FORBIDDEN, {
      message: fields ? `${ERROR_MESSAGES[code]}: ${fields.join(', ')}` : undefined,
      extra: fields ? { fields } : {},
    });
    this.fields = fields;
  }
}

/**
 * A resolver found no record for the route: 404, never a type-level fallback.
 *
 * @publicApi
 */
export class ResourceNotFoundError extends ZeroTrustError {
  constructor() {
    super('ZT_RESOURCE_NOT_FOUND', HttpStatus.NOT_FOUND);
  }
}

/**
 * Something the decision depends on (keys, store, resolver) failed: the request is refused
 * with 503 rather than allowed. Fail closed.
 *
 * @publicApi
 */
export class DependencyUnavailableError extends ZeroTrustError {
  constructor(
    code:
      'ZT_KEYS_UNAVAILABLE' | 'ZT_STORE_UNAVAILABLE' | 'ZT_RESOLVER_FAILED' | 'ZT_POLICY_FAILED',
    cause?: unknown,
  ) {
    super(code, HttpStatus.SERVICE_UNAVAILABLE, { cause });
  }
}

/**
 * The module is misconfigured: thrown at boot, listing every problem at once.
 *
 * @publicApi
 */
export class ZeroTrustConfigurationError extends ZeroTrustError {
  /** Each problem found, one line each. */
  readonly problems: readonly string[];

  constructor(code: 'ZT_OPTIONS_INVALID' | 'ZT_ROUTES_UNPROTECTED', problems: string[]) {
    super(code, HttpStatus.INTERNAL_SERVER_ERROR, {
      message: `${ERROR_MESSAGES[code]}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    });
    this.problems = problems;
  }
}
