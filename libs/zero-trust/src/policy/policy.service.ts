import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  AuthorizationService,
  type QueryCondition,
} from '../authorization/authorization.service.js';
import { ABILITY_ENV_SOURCES, type AbilityEnvSource } from '../context/lazy-env.js';
import { getZeroTrustContext } from '../context/request-context.js';
import { ZeroTrustError } from '../errors/zero-trust.error.js';
import { POLICY_DECISION_POINT, type PolicyDecisionPoint } from './decision-point.js';
import { environmentOf, plannedCondition } from './external-checks.js';

/**
 * Engine-neutral authorization in a handler: the same controller code whether CASL or an
 * external decision point (Cerbos) decides. @publicApi
 */
@Injectable()
export class PolicyService {
  constructor(
    private readonly authorization: AuthorizationService,
    @Optional() @Inject(POLICY_DECISION_POINT) private readonly pdp?: PolicyDecisionPoint,
    @Optional() @Inject(ABILITY_ENV_SOURCES) private readonly sources: AbilityEnvSource[] = [],
  ) {}

  /** The engine deciding: `casl` or the external decision point's name (e.g. `cerbos`). */
  get engine(): string {
    return this.pdp?.engine ?? 'casl';
  }

  /**
   * The query condition of the records the request's principal may `action` (`null`: none,
   * `{}`: all), as `AuthorizationService.conditionFor` gives it; with an external decision point,
   * from the plan the route's type-level `@Can` already made, else from a new one.
   * @throws {ZeroTrustError} `ZT_UNAUTHENTICATED` on a request the guards did not authorize
   * @throws {DependencyUnavailableError} `ZT_PDP_UNAVAILABLE` when the decision point fails
   */
  async conditionFor(
    request: object,
    action: string,
    subject: string,
  ): Promise<QueryCondition | null> {
    const context = getZeroTrustContext(request);
    const principal = context?.principal;
    if (context === undefined || principal === undefined)
      throw new ZeroTrustError('ZT_UNAUTHENTICATED', 401);
    if (this.pdp === undefined) {
      if (context.ability === undefined) throw new ZeroTrustError('ZT_UNAUTHENTICATED', 401);
      return this.authorization.conditionFor(context.ability, action, subject);
    }
    const planned = plannedCondition(context, subject, action);
    if (planned !== undefined) return planned.condition;
    const environment = await environmentOf(this.sources, request, context);
    return (await this.pdp.plan(principal, environment, subject, action)).condition;
  }
}
