import { Inject, Injectable, Logger, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import type { PrincipalKind } from '../identity/principal.interface.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { RISK_POLICY_KEY } from './decorators.js';
import { isResolverClass, type SubjectResolver } from './resolver.interface.js';
import { routePolicyOf, subjectOf, type RoutePolicy } from './route-policy.js';

function label(route: RoutePolicy): string {
  return `${route.method} ${route.path} (${route.handlerName})`;
}

/** A short description of a policy, for the boot-time route listing. */
function describe(policy: RoutePolicy): string {
  if (policy.isPublic) return '@Public';
  const parts: string[] = [];
  if (policy.authenticated) parts.push('@Authenticated');
  if (policy.scopes.length > 0) parts.push(`@Scopes(${policy.scopes.join(' ')})`);
  for (const check of policy.checks) {
    const { resolve, typeLevel } = check.options;
    const how = resolve ? ', resolved' : typeLevel ? ', type-level' : '';
    parts.push(`@Can(${check.action}, ${subjectOf(check)}${how})`);
  }
  if (parts.length === 0) return 'NO POLICY';
  return parts.join(' ') + (policy.mode === 'report-only' ? ' [report-only]' : '');
}

/**
 * Whether a definition's source names `subject` (or `all`). A heuristic, for a warning only: a
 * subject named through a variable or a helper function is not seen.
 */
function mentions(source: string, subject: string): boolean {
  const quoted = (name: string): RegExp =>
    new RegExp(`(['"\`])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\1`);
  return (
    quoted('all').test(source) ||
    quoted(subject).test(source) ||
    new RegExp(`\\b${subject.replace(/[^\w$]/g, '')}\\b`).test(source)
  );
}

/**
 * Lists every HTTP route with its policy at bootstrap, and finds what would make a route fail
 * open or fail every request:
 * - a route with no `@Public`, `@Authenticated`, `@Scopes` or `@Can` (`ZT_ROUTES_UNPROTECTED`);
 * - contradictory decorators (`@Public` with a protecting one), a type-level `@Can` on a path
 *   with parameters, a resolver class that is no module's provider, a `@RiskPolicy` while the
 *   module has no `risk` option (`ZT_ROUTE_POLICY_INVALID`).
 *
 * In strict mode (the default) any of these stops the boot, naming every offender; otherwise
 * each is logged as a warning and the route fails closed. A principal kind without an ability
 * definition, or a `@Can` subject no definition mentions, is always only a warning.
 *
 * @publicApi
 */
@Injectable()
export class RouteAuditService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ZeroTrust');
  private audited: RoutePolicy[] = [];

  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Every HTTP route of the application with its policy, as found at bootstrap. */
  routes(): readonly RoutePolicy[] {
    return this.audited;
  }

  onApplicationBootstrap(): void {
    const modules = new Map<RoutePolicy, string>();
    const inertRiskPolicies: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as Type | undefined;
      if (!controller?.prototype) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function' || !Reflect.hasMetadata(METHOD_METADATA, handler))
          continue;
        const policy = routePolicyOf(controller, handler as never);
        modules.set(policy, wrapper.host?.metatype.name ?? 'its module');
        // Without the `risk` option the risk guard lets every request through: a step-up or a
        // score limit the author asked for would silently never apply. (A route with problems of
        // its own, e.g. @Public with @RiskPolicy, is already reported.)
        const asksRisk =
          Reflect.hasMetadata(RISK_POLICY_KEY, handler) ||
          Reflect.hasMetadata(RISK_POLICY_KEY, controller);
        if (asksRisk && policy.problems.length === 0 && !this.options.risk.enabled)
          inertRiskPolicies.push(
            `${label(policy)} has @RiskPolicy but the module has no \`risk\` option: it would never apply`,
          );
      }
    }
    this.audited = [...modules.keys()];
    for (const route of this.audited)
      this.logger.log(`${route.method.padEnd(6)} ${route.path} → ${describe(route)}`);
    const unprotected = this.audited
      .filter(
        (r) =>
          !r.isPublic &&
          !r.authenticated &&
          r.checks.length === 0 &&
          r.scopes.length === 0 &&
          r.problems.length === 0,
      )
      .map((r) => `${label(r)} has no @Public, @Authenticated, @Scopes or @Can`);
    const invalid = [
      ...this.audited.flatMap((r) => r.problems.map((problem) => `${label(r)} ${problem}`)),
      ...this.unconstructedResolvers(modules),
      ...inertRiskPolicies,
    ];
    for (const warning of this.abilityWarnings()) this.logger.warn(warning);
    const problems = [...unprotected, ...invalid];
    if (problems.length === 0) return;
    if (this.options.strictRouteAudit) {
      throw new ZeroTrustConfigurationError(
        invalid.length > 0 ? 'ZT_ROUTE_POLICY_INVALID' : 'ZT_ROUTES_UNPROTECTED',
        problems,
      );
    }
    for (const problem of unprotected)
      this.logger.warn(`${problem}: every request to it is denied`);
    for (const problem of invalid) this.logger.warn(problem);
  }

  /**
   * Resolver classes Nest cannot hand out (no module provides them): found here, once, with
   * where to register them, rather than as a 503 on every request.
   */
  private unconstructedResolvers(modules: ReadonlyMap<RoutePolicy, string>): string[] {
    const problems: string[] = [];
    const seen = new Set<Type<SubjectResolver>>();
    for (const [policy, module] of modules) {
      for (const { options } of policy.checks) {
        const resolver = options.resolve;
        if (!isResolverClass(resolver) || seen.has(resolver)) continue;
        seen.add(resolver);
        try {
          this.moduleRef.get(resolver, { strict: false });
        } catch {
          problems.push(
            `${label(policy)} uses resolver ${resolver.name}, which is not a provider of any module: add it to the providers of ${module} (or of a module it imports)`,
          );
        }
      }
    }
    return problems;
  }

  /**
   * A kind of principal that may reach `@Can` routes but has no ability definition, and a
   * `@Can` subject that no definition names.
   */
  private abilityWarnings(): string[] {
    const { abilities, principals } = this.options;
    const checked = this.audited.filter((r) => r.checks.length > 0);
    if (checked.length === 0) return [];
    const warnings: string[] = [];
    const reachable: [PrincipalKind, boolean][] = [
      ['user', true],
      ['service', Object.keys(principals.services).length > 0],
      ['integration', Object.keys(principals.integrations).length > 0],
    ];
    for (const [kind, present] of reachable) {
      if (present && abilities[kind] === undefined)
        warnings.push(
          `No ability definition for principal kind "${kind}": every @Can route answers 403 to it (add abilities.${kind})`,
        );
    }
    const sources = Object.values(abilities).map((define) => String(define));
    const subjects = new Map<string, RoutePolicy>();
    for (const route of checked)
      for (const check of route.checks)
        if (!subjects.has(subjectOf(check))) subjects.set(subjectOf(check), route);
    for (const [subject, route] of subjects) {
      if (sources.some((source) => mentions(source, subject))) continue;
      warnings.push(
        `@Can subject "${subject}" (first used by ${label(route)}) is named in no ability definition: every request to its routes answers 403 (the check reads the definitions' source; ignore this if a helper or a variable names it)`,
      );
    }
    return warnings;
  }
}
