import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import { RISK_POLICY_KEY } from '../risk/risk-policy.js';
import {
  CAN_KEY,
  IS_AUTHENTICATED_KEY,
  IS_PUBLIC_KEY,
  MODE_KEY,
  SCOPES_KEY,
} from '../zero-trust.constants.js';
import type { CanCheck } from './resolver.interface.js';

/**
 * The access policy of one route, read once from its decorators.
 *
 * @publicApi
 */
export interface RoutePolicy {
  /**
   * `@Public()` and nothing that contradicts it: no authentication, no authorization. A route
   * that says `@Public` and also asks for protection (see {@link RoutePolicy.problems}) is not
   * public: it fails closed.
   */
  readonly isPublic: boolean;
  /** `@Authenticated()`: any verified principal. */
  readonly authenticated: boolean;
  /** Every `@Can` of the controller, then of the handler. */
  readonly checks: readonly CanCheck[];
  /** Every scope `@Scopes` asks for, on the controller or the handler. */
  readonly scopes: readonly string[];
  /**
   * What is wrong with the route's decorators, one sentence each: contradictory decorators,
   * a type-level `@Can` on a path with parameters. The route audit reports them at boot.
   */
  readonly problems: readonly string[];
  /** Mode set by `@Mode` / `@ReportOnly`, if any. */
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

/** Whether the class or the handler carries `key`: a handler's value never hides its class's. */
function onEither(key: string, handler: object, controller: object): boolean {
  return (
    Reflect.getMetadata(key, handler) !== undefined ||
    Reflect.getMetadata(key, controller) !== undefined
  );
}

function listOf(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
}

/** Route parameters (`:id`) and wildcards (`*path`) both name records the caller chooses. */
function hasParameters(prefix: unknown, path: unknown): boolean {
  return [...listOf(prefix), ...listOf(path)].some((part) => /[:*]/.test(part));
}

/**
 * Decorators that ask for protection: with `@Public` on the same route (class or handler) they
 * contradict it. `@Mode`/`@ReportOnly` do not: they change how denies are enforced,
 * and a public route has none.
 */
const PROTECTING: readonly (readonly [key: string, name: string])[] = [
  [CAN_KEY, '@Can'],
  [IS_AUTHENTICATED_KEY, '@Authenticated'],
  [SCOPES_KEY, '@Scopes'],
  [RISK_POLICY_KEY, '@RiskPolicy'],
];

function subjectOf(check: CanCheck): string {
  return typeof check.subject === 'string' ? check.subject : check.subject.name;
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
  const prefix: unknown = Reflect.getMetadata(PATH_METADATA, controller);
  const path: unknown = Reflect.getMetadata(PATH_METADATA, handler);
  const checks = [...classChecks, ...handlerChecks];
  const problems: string[] = [];
  const declaredPublic =
    Reflect.getMetadata(IS_PUBLIC_KEY, handler) === true ||
    Reflect.getMetadata(IS_PUBLIC_KEY, controller) === true;
  if (declaredPublic) {
    const contradicting = PROTECTING.filter(([key]) => onEither(key, handler, controller));
    if (contradicting.length > 0) {
      problems.push(
        `is @Public but also has ${contradicting.map(([, name]) => name).join(', ')}: it is served as a protected route (authentication required) until one side is removed`,
      );
    }
  }
  if (hasParameters(prefix, path)) {
    for (const check of checks) {
      if (check.options.resolve !== undefined || check.options.typeLevel === true) continue;
      problems.push(
        `@Can(${check.action}, ${subjectOf(check)}) has no resolver on a path with parameters, so it allows a caller who may ${check.action} any ${subjectOf(check)} to reach every one: add { resolve } to check the record the path names, or { typeLevel: true } if a type-level check is meant`,
      );
    }
  }
  const policy: RoutePolicy = {
    // Fail closed: a contradictory route is never public.
    isPublic: declaredPublic && problems.length === 0,
    authenticated: read(IS_AUTHENTICATED_KEY, handler, controller) === true,
    checks,
    scopes: [
      ...new Set([
        ...listOf(Reflect.getMetadata(SCOPES_KEY, controller)),
        ...listOf(Reflect.getMetadata(SCOPES_KEY, handler)),
      ]),
    ],
    problems,
    mode: read(MODE_KEY, handler, controller) as ZeroTrustMode | undefined,
    method: requestMethod === undefined ? 'UNKNOWN' : (RequestMethod[requestMethod] ?? 'UNKNOWN'),
    path: joinPath(prefix, path),
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
  if (policy.scopes.length > 0) parts.push(`@Scopes(${policy.scopes.join(' ')})`);
  for (const check of policy.checks) {
    const how = check.options.resolve
      ? ', resolved'
      : check.options.typeLevel
        ? ', type-level'
        : '';
    parts.push(`@Can(${check.action}, ${subjectOf(check)}${how})`);
  }
  if (parts.length === 0) return 'NO POLICY';
  return parts.join(' ') + (policy.mode === 'report-only' ? ' [report-only]' : '');
}
