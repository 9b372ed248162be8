import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import { CAN_KEY, IS_AUTHENTICATED_KEY, IS_PUBLIC_KEY, MODE_KEY } from '../zero-trust.constants.js';
import type { CanCheck } from './resolver.interface.js';

/**
 * The access policy of one route, read once from its decorators.
 *
 * @publicApi
 */
export interface RoutePolicy {
  /** `@Public()`: no authentication, no authorization. */
  readonly isPublic: boolean;
  /** `@Authenticated()`: any verified principal. */
  readonly authenticated: boolean;
  /** Every `@Can` of the controller, then of the handler. */
  readonly checks: readonly CanCheck[];
  /** Mode set by `@ZeroTrustMode` / `@ReportOnly`, if any. */
  readonly mode: ZeroTrustMode | undefined;
  /** HTTP method, e.g. `GET`. */
  readonly method: string;
  /** Route path as declared, e.g. `/invoices/:id`. */
  readonly path: string;
  /** `Controller.handler`, for messages. */
  readonly handlerName: string;
}

// Keyed by controller, then handler: a handler inherited by two controllers has two policies.
const cache = new WeakMap<object, WeakMap<object, RoutePolicy>>();

function read(key: string, handler: object, controller: object): unknown {
  const own: unknown = Reflect.getMetadata(key, handler);
  return own !== undefined ? own : (Reflect.getMetadata(key, controller) as unknown);
}

function joinPath(prefix: unknown, path: unknown): string {
  const first = (value: unknown): string =>
    Array.isArray(value) ? String(value[0] ?? '') : typeof value === 'string' ? value : '';
  const joined = `/${first(prefix)}/${first(path)}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

/**
 * Reads (and caches per handler) the policy of a route from its decorators.
 *
 * @publicApi
 */
export function routePolicyOf(
  controller: Type,
  handler: (...args: never[]) => unknown,
): RoutePolicy {
  let byHandler = cache.get(controller);
  const cached = byHandler?.get(handler);
  if (cached !== undefined) return cached;
  const classChecks = (Reflect.getMetadata(CAN_KEY, controller) as CanCheck[] | undefined) ?? [];
  const handlerChecks = (Reflect.getMetadata(CAN_KEY, handler) as CanCheck[] | undefined) ?? [];
  const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
  const policy: RoutePolicy = {
    isPublic: read(IS_PUBLIC_KEY, handler, controller) === true,
    authenticated: read(IS_AUTHENTICATED_KEY, handler, controller) === true,
    checks: [...classChecks, ...handlerChecks],
    mode: read(MODE_KEY, handler, controller) as ZeroTrustMode | undefined,
    method: requestMethod === undefined ? 'UNKNOWN' : (RequestMethod[requestMethod] ?? 'UNKNOWN'),
    path: joinPath(
      Reflect.getMetadata(PATH_METADATA, controller),
      Reflect.getMetadata(PATH_METADATA, handler),
    ),
    handlerName: `${controller.name}.${handler.name}`,
  };
  if (byHandler === undefined) cache.set(controller, (byHandler = new WeakMap()));
  byHandler.set(handler, policy);
  return policy;
}

/**
 * A short human description of a policy, for the boot-time route listing.
 *
 * @internal
 */
export function describePolicy(policy: RoutePolicy): string {
  if (policy.isPublic) return '@Public';
  const parts: string[] = [];
  if (policy.authenticated) parts.push('@Authenticated');
  for (const check of policy.checks) {
    const subject = typeof check.subject === 'string' ? check.subject : check.subject.name;
    parts.push(`@Can(${check.action}, ${subject}${check.options.resolve ? ', resolved' : ''})`);
  }
  if (parts.length === 0) return 'NO POLICY';
  return parts.join(' ') + (policy.mode === 'report-only' ? ' [report-only]' : '');
}
