import { Inject, Injectable, Logger, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { describePolicy, routePolicyOf, type RoutePolicy } from './route-policy.js';

/**
 * Lists every HTTP route with its policy at bootstrap. In strict mode (the default) a route
 * with no `@Public`, `@Authenticated` or `@Can` stops the boot, naming every offender.
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
  ) {}

  /** Every HTTP route of the application with its policy, as found at bootstrap. */
  routes(): readonly RoutePolicy[] {
    return this.audited;
  }

  /** Collects the routes of every controller. */
  collect(): RoutePolicy[] {
    const routes: RoutePolicy[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as Type | undefined;
      if (!controller?.prototype) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function') continue;
        if (Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        routes.push(routePolicyOf(controller, handler as (...args: never[]) => unknown));
      }
    }
    return routes;
  }

  onApplicationBootstrap(): void {
    this.audited = this.collect();
    const offenders = this.audited.filter(
      (r) => !r.isPublic && !r.authenticated && r.checks.length === 0,
    );
    for (const route of this.audited) {
      this.logger.log(`${route.method.padEnd(6)} ${route.path} → ${describePolicy(route)}`);
    }
    if (offenders.length === 0) return;
    const problems = offenders.map(
      (r) => `${r.method} ${r.path} (${r.handlerName}) has no @Public, @Authenticated or @Can`,
    );
    if (this.options.strictRouteAudit)
      throw new ZeroTrustConfigurationError('ZT_ROUTES_UNPROTECTED', problems);
    for (const problem of problems) this.logger.warn(`${problem}: every request to it is denied`);
  }
}
