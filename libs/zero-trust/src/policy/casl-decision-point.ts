import { subject as tagged } from '@casl/ability';
import type { AbilityFactory } from '../authorization/ability.factory.js';
import { buildAbility } from '../authorization/ability.factory.js';
import type { AbilityDefinitions } from '../authorization/ability.types.js';
import { AuthorizationService } from '../authorization/authorization.service.js';
import { explainAllow, explainDenial } from '../authorization/explain.js';
import type { Principal } from '../identity/principal.interface.js';
import type {
  PolicyCheck,
  PolicyDecisionPoint,
  PolicyEnvironment,
  PolicyPlan,
  PolicyVerdict,
} from './decision-point.js';

// conditionFor reads nothing of the factory.
const conditions = new AuthorizationService(undefined as unknown as AbilityFactory);

/**
 * CASL ability definitions behind the {@link PolicyDecisionPoint} interface, for what compares or
 * tests engines (permission matrices, `expectDecision`). The guards do not use it: with no
 * external decision point they call the abilities directly, cached. @publicApi
 */
export class CaslDecisionPoint implements PolicyDecisionPoint {
  readonly engine = 'casl';

  constructor(private readonly definitions: AbilityDefinitions) {}

  private async abilityOf(principal: Principal, environment: PolicyEnvironment) {
    return (await buildAbility(this.definitions, principal, { ...environment })).ability;
  }

  /** Decides every check of one request in one call (see `PolicyDecisionPoint.check`). */
  async check(
    principal: Principal,
    environment: PolicyEnvironment,
    checks: readonly PolicyCheck[],
  ): Promise<PolicyVerdict[]> {
    const ability = await this.abilityOf(principal, environment);
    return checks.map(({ resource, action, fields }) => {
      const target = tagged(resource.kind, { ...resource.attributes }) as unknown as string;
      const allowed = ability.can(action, target);
      const refusedFields = fields.filter((field) => !ability.can(action, target, field));
      const rule = allowed
        ? explainAllow(ability, action, target)
        : explainDenial(ability, action, target, resource.kind);
      return { allowed, refusedFields: allowed ? refusedFields : [], rule };
    });
  }

  /** What `principal` may do to some `kind` (see `PolicyDecisionPoint.plan`). */
  async plan(
    principal: Principal,
    environment: PolicyEnvironment,
    kind: string,
    action: string,
    fields: readonly string[] = [],
  ): Promise<PolicyPlan> {
    const ability = await this.abilityOf(principal, environment);
    const allowed = ability.can(action, kind);
    const condition = allowed ? conditions.conditionFor(ability, action, kind) : null;
    const refusedFields = fields.filter((field) => !ability.can(action, kind, field));
    const rule = allowed
      ? explainAllow(ability, action, kind)
      : explainDenial(ability, action, kind, kind);
    return { condition, refusedFields, rule };
  }
}
