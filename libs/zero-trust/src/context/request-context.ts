import { randomUUID } from 'node:crypto';
import type { ZeroTrustAbility } from '../authorization/ability.types.js';
import type { Principal } from '../identity/principal.interface.js';

/**
 * What the library knows about one request, kept on the request object.
 *
 * @publicApi
 */
export interface ZeroTrustRequestContext {
  /** Id of this request in audit events. */
  readonly requestId: string;
  /** When the library first saw the request. */
  readonly time: Date;
  /** Client address as the HTTP server sees it. */
  readonly ip: string | undefined;
  /** HTTP method. */
  readonly method: string;
  /** Route pattern, e.g. `/invoices/:id`. */
  route: string;
  /** The verified caller, once authenticated. */
  principal?: Principal;
  /** The caller's ability, once built. */
  ability?: ZeroTrustAbility;
  /** Records loaded by resolvers, by subject type. */
  readonly resources: Map<string, unknown>;
  /** Records loaded by resolvers, by resolver: a resolver runs at most once per request. */
  readonly resolved: Map<unknown, object>;
}

const CONTEXT = Symbol.for('nestjs-zero-trust:context');

/**
 * The minimal request shape shared by Express and Fastify.
 *
 * @internal
 */
export interface HttpRequestLike {
  method?: string;
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string | undefined>;
  query?: Record<string, unknown>;
  body?: unknown;
  user?: unknown;
  [CONTEXT]?: ZeroTrustRequestContext;
}

/**
 * Returns the zero-trust context of a request, creating it on first use.
 *
 * @internal
 */
export function contextOf(request: HttpRequestLike, route = ''): ZeroTrustRequestContext {
  let context = request[CONTEXT];
  if (context === undefined) {
    context = {
      requestId: randomUUID(),
      time: new Date(),
      ip: request.ip,
      method: request.method ?? 'UNKNOWN',
      route,
      resources: new Map(),
      resolved: new Map(),
    };
    request[CONTEXT] = context;
  }
  return context;
}

/**
 * Returns the zero-trust context of a request if the guards have seen it.
 *
 * @publicApi
 */
export function getZeroTrustContext(request: object): ZeroTrustRequestContext | undefined {
  return (request as HttpRequestLike)[CONTEXT];
}
