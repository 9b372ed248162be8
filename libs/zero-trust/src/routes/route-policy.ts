import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import {
  CAN_KEY,
  IS_AUTHENTICATED_KEY,
  IS_PUBLIC_KEY,
  MODE_KEY,
  RISK_POLICY_KEY,
  SCOPES_KEY,
  type RiskPolicyOptions,
} from './decorators.js';
import type { CanCheck } from './resolver.interface.js';

/** The access policy of one route, read once from its decorators. @internal */
export interface RoutePolicy {
  /** `@Public()` and nothing that contradicts it (a contradictory route fails closed). */
  readonly isPublic: boolean;
  /** `@Authenticated()`: any verified principal. */
  readonly authenticated: boolean;
  /** Every `@Can` of the controller, then of the handler. */
  readonly checks: readonly CanCheck[];
  /** Every scope `@Scopes` asks for, on the controller or the handler. */
  readonly scopes: readonly string[];
  /** What is wrong with the route's decorators, one sentence each, reported at boot. */
  readonly problems: readonly string[];
  /** `@RiskPolicy` of the class, overridden field by field by the handler's. */
  readonly risk: RiskPolicyOptions;
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

// Decorators that contradict `@Public` on the same route (`@Mode` does not).
const PROTECTING = [
  [CAN_KEY, '@Can'],
  [IS_AUTHENTICATED_KEY, '@Authenticated'],
  [SCOPES_KEY, '@Scopes'],
  [RISK_POLICY_KEY, '@RiskPolicy'],
] as const;

function listOf(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
}

/** The name of a `@Can` subject, for messages. @internal */
export function subjectOf(check: CanCheck): string {
  return typeof check.subject === 'string' ? check.subject : check.subject.name;
}

/** Reads (and caches per handler) the policy of a route from its decorators. @internal */
export function routePolicyOf(
  controller: Type,
  handler: (...args: never[]) => unknown,
): RoutePolicy {
  let byHandler = cache.get(controller);
  const cached = byHandler?.get(handler);
  if (cached !== undefined) return cached;
  // The handler's own value, else the class's; `both` keeps both.
  const meta = (key: string): unknown =>
    Reflect.getMetadata(key, handler) ?? (Reflect.getMetadata(key, controller) as unknown);
  const both = (key: string): unknown[] =>
    [controller, handler].map((target) => Reflect.getMetadata(key, target) as unknown);
  const checks = both(CAN_KEY).flatMap((value) => (value ?? []) as CanCheck[]);
  const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
  const [prefix, path] = both(PATH_METADATA);
  const problems: string[] = [];
  const declaredPublic = both(IS_PUBLIC_KEY).includes(true);
  const contradicting = PROTECTING.filter(([key]) => both(key).some((v) => v !== undefined));
  if (declaredPublic && contradicting.length > 0)
    problems.push(
      `is @Public but also has ${contradicting.map(([, name]) => name).join(', ')}: it is served as a protected route (authentication required) until one side is removed`,
    );
  // Route parameters (`:id`) and wildcards (`*path`) both name records the caller chooses.
  const parameterized = [...listOf(prefix), ...listOf(path)].some((part) => /[:*]/.test(part));
  for (const check of parameterized ? checks : []) {
    if (check.options.resolve !== undefined || check.options.typeLevel === true) continue;
    problems.push(
      `@Can(${check.action}, ${subjectOf(check)}) has no resolver on a path with parameters, so it allows a caller who may ${check.action} any ${subjectOf(check)} to reach every one: add { resolve } to check the record the path names, or { typeLevel: true } if a type-level check is meant`,
    );
  }
  const joined = `/${listOf(prefix)[0] ?? ''}/${listOf(path)[0] ?? ''}`.replace(/\/+/g, '/');
  const policy: RoutePolicy = {
    // Fail closed: a contradictory route is never public.
    isPublic: declaredPublic && problems.length === 0,
    authenticated: meta(IS_AUTHENTICATED_KEY) === true,
    checks,
    scopes: [...new Set(both(SCOPES_KEY).flatMap(listOf))],
    problems,
    risk: Object.assign({}, ...(both(RISK_POLICY_KEY) as RiskPolicyOptions[])),
    mode: meta(MODE_KEY) as ZeroTrustMode | undefined,
    method: requestMethod === undefined ? 'UNKNOWN' : (RequestMethod[requestMethod] ?? 'UNKNOWN'),
    path: joined.length > 1 ? joined.replace(/\/$/, '') : joined,
    handlerName: `${controller.name}.${handler.name}`,
  };
  if (byHandler === undefined) cache.set(controller, (byHandler = new WeakMap()));
  byHandler.set(handler, policy);
  return policy;
}
