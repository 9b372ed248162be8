import type { INestApplicationContext, Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import type { RiskPolicyOptions } from '../routes/decorators.js';
import { RouteAuditService } from '../routes/route-audit.service.js';
import { routePolicyOf, subjectOf, type RoutePolicy } from '../routes/route-policy.js';
import { isRoute } from '../transports/message-guard.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';

/** The transport a route is served on. */
export type InventoryTransport = 'http' | 'message' | 'graphql' | 'websocket';

/** One `@Can` check of a route, as the inventory prints it. */
export interface InventoryCheck {
  /** The action, e.g. `read`. */
  readonly action: string;
  /** The subject's name, e.g. `Invoice`. */
  readonly subject: string;
  /** The resolver class's name, `(function)` for an inline resolver, `null` without one. */
  readonly resolver: string | null;
  /** `{ typeLevel: true }`: a check on some record of the type, not on the one the path names. */
  readonly typeLevel: boolean;
  /** The field-level check: `body`, `(function)`, or `null` when fields are not checked. */
  readonly fields: string | null;
}

/** One route of the inventory: where it is served and what decides it. */
export interface InventoryRoute {
  /** `http`, `message` (microservices), `graphql` (root fields) or `websocket`. */
  readonly transport: InventoryTransport;
  /** `GET`…; `MESSAGE` or `EVENT`; `QUERY`, `MUTATION` or `SUBSCRIPTION`; `MESSAGE` (sockets). */
  readonly method: string;
  /** The path, the message pattern, the GraphQL field, or the socket message (after its gateway's path). */
  readonly path: string;
  /** `Class.method`. */
  readonly handler: string;
  /** The access policy, from the route's decorators. */
  readonly policy: {
    /** `@Public()` (and nothing contradicting it). */
    readonly public: boolean;
    /** `@Authenticated()`. */
    readonly authenticated: boolean;
    /** Every scope `@Scopes` asks for, class and handler. */
    readonly scopes: readonly string[];
    /** Every `@Can`, class then handler. */
    readonly checks: readonly InventoryCheck[];
    /** No policy at all: denied in enforce mode, served and recorded as would-deny in report-only. */
    readonly none: boolean;
  };
  /** The context risk applied (`null` when the module has no `risk` option). */
  readonly risk: {
    /** The risk guard's mode for this route. */
    readonly mode: ZeroTrustMode;
    /** The route's `@RiskPolicy` (empty: the module's thresholds). */
    readonly policy: RiskPolicyOptions;
  } | null;
  /** The authorization mode the route runs in. */
  readonly mode: ZeroTrustMode;
  /** Where the mode comes from: the route's `@Mode`/`@ReportOnly`, or the module's `mode`. */
  readonly modeFrom: 'route' | 'module';
}

/** The whole inventory, in a stable order (transport, path, method, handler). */
export interface RouteInventory {
  /** The module's authorization mode. */
  readonly mode: ZeroTrustMode;
  /** Whether the boot refuses unprotected or invalid routes (`strictRouteAudit`). */
  readonly strictRouteAudit: boolean;
  /** Every route the boot-time audit found. */
  readonly routes: readonly InventoryRoute[];
}

// Metadata keys of @nestjs/microservices, @nestjs/graphql and @nestjs/websockets (read, not
// imported: those packages are optional peers).
const PATTERN = 'microservices:pattern';
const PATTERN_HANDLER = 'microservices:handler_type';
const GRAPHQL_TYPE = 'graphql:resolver_type';
const GRAPHQL_NAME = 'graphql:resolver_name';
const SOCKET_MAPPING = 'websockets:message_mapping';
const SOCKET_MESSAGE = 'message';
const GATEWAY_OPTIONS = 'websockets:gateway_options';

type Handler = (...args: never[]) => unknown;

/** Whether `value` is a class (not a plain function). */
export const isClass = (value: unknown): value is Type =>
  typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value));

const meta = (key: string, target: object): unknown => Reflect.getMetadata(key, target);

/** Where a handler is served: its transport, method and path. */
function locate(
  controller: Type,
  handler: Handler,
  route: RoutePolicy,
): Pick<InventoryRoute, 'transport' | 'method' | 'path'> {
  const patterns = meta(PATTERN, handler);
  if (Array.isArray(patterns)) {
    const shown = patterns.map((p) => (typeof p === 'string' ? p : JSON.stringify(p)));
    // Nest's PatternHandler: 1 is a request-response message, 2 an event.
    const method = meta(PATTERN_HANDLER, handler) === 2 ? 'EVENT' : 'MESSAGE';
    return { transport: 'message', method, path: shown.join(', ') };
  }
  const graphql = meta(GRAPHQL_TYPE, handler);
  if (typeof graphql === 'string') {
    const name = meta(GRAPHQL_NAME, handler);
    const field = typeof name === 'string' ? name : handler.name;
    return { transport: 'graphql', method: graphql.toUpperCase(), path: field };
  }
  if (meta(SOCKET_MAPPING, handler) === true) {
    const message = meta(SOCKET_MESSAGE, handler);
    const gateway = meta(GATEWAY_OPTIONS, controller) as { path?: string; namespace?: unknown };
    const at = gateway?.path ?? (typeof gateway?.namespace === 'string' ? gateway.namespace : '');
    const shown = typeof message === 'string' ? message : JSON.stringify(message);
    return { transport: 'websocket', method: 'MESSAGE', path: at ? `${at} ${shown}` : shown };
  }
  return { transport: 'http', method: route.method, path: route.path };
}

function checksOf(route: RoutePolicy): InventoryCheck[] {
  return route.checks.map((check) => {
    const { resolve, typeLevel, fields } = check.options;
    return {
      action: check.action,
      subject: subjectOf(check),
      resolver: resolve === undefined ? null : isClass(resolve) ? resolve.name : '(function)',
      typeLevel: typeLevel === true,
      fields:
        typeof fields === 'function'
          ? '(function)'
          : fields === 'body' ||
              (fields === undefined && ['POST', 'PUT', 'PATCH'].includes(route.method))
            ? 'body'
            : null,
    };
  });
}

/**
 * Reads the inventory of an application whose `ZeroTrustModule` has booted (after `init()`): the
 * routes the boot-time audit found, each located by its transport's metadata.
 */
export function readInventory(app: INestApplicationContext): RouteInventory {
  const audit = app.get(RouteAuditService, { strict: false });
  const options = app.get<symbol, ResolvedZeroTrustOptions>(ZERO_TRUST_OPTIONS, { strict: false });
  const discovery = app.get(DiscoveryService, { strict: false });
  const scanner = app.get(MetadataScanner, { strict: false });
  // The audit's policies are cached per handler: the same objects, found again with their handler.
  const located = new Map<RoutePolicy, { controller: Type; handler: Handler }>();
  for (const wrapper of [...discovery.getControllers(), ...discovery.getProviders()]) {
    const controller = wrapper.metatype as Type | undefined;
    const prototype = controller?.prototype as Record<string, unknown> | undefined;
    if (controller === undefined || prototype === undefined) continue;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      if (isRoute(handler))
        located.set(routePolicyOf(controller, handler), { controller, handler });
    }
  }
  const routes = audit.routes().map((route): InventoryRoute => {
    const at = located.get(route);
    const where = at
      ? locate(at.controller, at.handler, route)
      : { transport: 'http' as const, method: route.method, path: route.path };
    const { isPublic, authenticated, scopes } = route;
    const checks = checksOf(route);
    return {
      ...where,
      handler: route.handlerName,
      policy: {
        public: isPublic,
        authenticated,
        scopes: [...scopes],
        checks,
        none: !isPublic && !authenticated && scopes.length === 0 && checks.length === 0,
      },
      // As the risk guard decides it: the route's mode, else the risk option's, else the module's.
      risk: options.risk.enabled
        ? { mode: route.mode ?? options.risk.mode ?? options.mode, policy: { ...route.risk } }
        : null,
      mode: route.mode ?? options.mode,
      modeFrom: route.mode === undefined ? 'module' : 'route',
    };
  });
  // NUL separates the parts: a part that is a prefix of another sorts first, as in a tuple order.
  const key = (r: InventoryRoute) => [r.transport, r.path, r.method, r.handler].join('\u0000');
  routes.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { mode: options.mode, strictRouteAudit: options.strictRouteAudit, routes };
}
