import type { RuleOf } from '@casl/ability';
import { rulesToCondition } from '@casl/ability/extra';
import { Injectable } from '@nestjs/common';
import { AccessDeniedError } from '../errors/zero-trust.error.js';
import type { Principal } from '../identity/principal.interface.js';
import { AbilityFactory } from './ability.factory.js';
import type { AbilityEnv, ZeroTrustAbility } from './ability.types.js';
import { tagSubject } from './subject.js';

/** A MongoDB-style query condition (the dialect of CASL conditions). @publicApi */
export type QueryCondition = Record<string, unknown>;

/**
 * Checks and query conditions in application code, for what decorators cannot express
 * (list routes, checks in the middle of a handler). @publicApi
 */
@Injectable()
export class AuthorizationService {
  constructor(private readonly abilities: AbilityFactory) {}

  /** Builds (or reuses) the ability of a principal. */
  abilityFor(principal: Principal, env: Partial<AbilityEnv> = {}): Promise<ZeroTrustAbility> {
    return this.abilities.createFor(principal, {
      time: new Date(),
      ip: undefined,
      requestId: 'internal',
      ...env,
    });
  }

  /** Whether `ability` allows `action` on a `record` of `subjectType` (else the type) or field. */
  can(
    ability: ZeroTrustAbility,
    action: string,
    subjectType: string,
    record?: object,
    field?: string,
  ): boolean {
    const target = record === undefined ? subjectType : tagSubject(subjectType, record);
    return ability.can(action, target as string, field);
  }

  /** Like {@link AuthorizationService.can} but throws a 403 {@link AccessDeniedError}. */
  assert(
    ability: ZeroTrustAbility,
    action: string,
    subjectType: string,
    record?: object,
    field?: string,
  ): void {
    if (!this.can(ability, action, subjectType, record, field)) throw new AccessDeniedError();
  }

  /** A list query's condition for `action` on `subjectType` (`null`: nothing may; `{}`: all). */
  conditionFor(
    ability: ZeroTrustAbility,
    action: string,
    subjectType: string,
  ): QueryCondition | null {
    return rulesToCondition<ZeroTrustAbility, QueryCondition, QueryCondition>(
      ability.rulesFor(action, subjectType),
      (rule: RuleOf<ZeroTrustAbility>) => {
        const conditions = (rule.conditions ?? {}) as QueryCondition;
        return rule.inverted ? { $nor: [conditions] } : conditions;
      },
      {
        and: (conditions) => ({ $and: conditions }),
        or: (conditions) =>
          conditions.length === 1 ? (conditions[0] as QueryCondition) : { $or: conditions },
        empty: () => ({}),
      },
    );
  }

  /** Filters records already in memory to those `ability` allows `action` on. */
  filter<T extends object>(
    ability: ZeroTrustAbility,
    action: string,
    subjectType: string,
    records: Iterable<T>,
  ): T[] {
    return [...records].filter((record) => this.can(ability, action, subjectType, record));
  }
}
