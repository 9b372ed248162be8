import { Inject, Injectable, Logger, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import type { PrincipalKind } from '../identity/principal.interface.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { isRoute } from '../transports/message-guard.js';
import { RISK_POLICY_KEY } from './decorators.js';
import { isResolverClass } from './resolver.interface.js';
import { routePolicyOf, subjectOf, type RoutePolicy } from './route-policy.js';

const label = (route: RoutePolicy): string =>
  `${route.method} ${route.path} (${route.handlerName})`;

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

/** Whether a definition's source names `subject` (or `all`): a heuristic, for a warning only. */
function mentions(source: string, subject: string): boolean {
  const quoted = (name: string) => ["'", '"', '`'].some((q) => source.includes(q + name + q));
  const word = new RegExp(`\\b${subject.replace(/[^\w$]/g, '')}\\b`);
  return quoted('all') || quoted(subject) || word.test(source);
}

/** Lists route policies at boot; a problem stops the boot (strict) or fails closed. @internal */
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

  /** Every route (HTTP, message handler, GraphQL root field) with its policy, found at boot. */
  routes(): readonly RoutePolicy[] {
    return this.audited;
  }

  onApplicationBootstrap(): void {
    const unprotected: string[] = [];
    const invalid: string[] = [];
    const resolvers = new Set<unknown>();
    for (const wrapper of [...this.discovery.getControllers(), ...this.discovery.getProviders()]) {
      const controller = wrapper.metatype as Type | undefined;
      const prototype = controller?.prototype as Record<string, unknown> | undefined;
      if (controller === undefined || prototype === undefined) continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (!isRoute(handler)) continue;
        const route = routePolicyOf(controller, handler);
        if (this.audited.includes(route)) continue;
        this.audited.push(route);
        this.logger.log(`${route.method.padEnd(6)} ${route.path} → ${describe(route)}`);
        const at = label(route);
        invalid.push(...route.problems.map((problem) => `${at} ${problem}`));
        // Resolver classes no module provides: found here, once, rather than as a 503 a request.
        for (const { resolve } of route.checks.map((check) => check.options)) {
          if (!isResolverClass(resolve) || resolvers.has(resolve)) continue;
          resolvers.add(resolve);
          try {
            this.moduleRef.get(resolve, { strict: false });
          } catch {
            const module = wrapper.host?.metatype.name ?? 'its module';
            invalid.push(
              `${at} uses resolver ${resolve.name}, which is not a provider of any module: add it to the providers of ${module} (or of a module it imports)`,
            );
          }
        }
        if (route.problems.length > 0) continue;
        const { isPublic, authenticated, checks, scopes } = route;
        if (!isPublic && !authenticated && checks.length === 0 && scopes.length === 0)
          unprotected.push(`${at} has no @Public, @Authenticated, @Scopes or @Can`);
        // Without the `risk` option the risk guard lets every request through.
        const asksRisk = [handler, controller].some((t) => Reflect.hasMetadata(RISK_POLICY_KEY, t));
        if (asksRisk && !this.options.risk.enabled)
          invalid.push(
            `${at} has @RiskPolicy but the module has no \`risk\` option: it would never apply`,
          );
      }
    }
    for (const warning of this.abilityWarnings()) this.logger.warn(warning);
    if (this.options.strictRouteAudit && unprotected.length + invalid.length > 0) {
      const code = invalid.length > 0 ? 'ZT_ROUTE_POLICY_INVALID' : 'ZT_ROUTES_UNPROTECTED';
      throw new ZeroTrustConfigurationError(code, [...unprotected, ...invalid]);
    }
    for (const problem of unprotected)
      this.logger.warn(`${problem}: every request to it is denied`);
    for (const problem of invalid) this.logger.warn(problem);
  }

  /** A principal kind without an ability definition, a `@Can` subject no definition names. */
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
    for (const [kind, present] of reachable)
      if (present && abilities[kind] === undefined)
        warnings.push(
          `No ability definition for principal kind "${kind}": every @Can route answers 403 to it (add abilities.${kind})`,
        );
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
