import type { DecisionRule } from '../audit/decision-event.interface.js';
import type { QueryCondition } from '../authorization/authorization.service.js';
import type { Principal } from '../identity/principal.interface.js';

/**
 * The environment of one request, as every decision point receives it: computed in full before
 * the call (an external engine cannot ask for a value later). @publicApi
 */
export interface PolicyEnvironment {
  /** When the request is being decided (a policy reads this, never its own clock). */
  readonly time: Date;
  /** The client address. */
  readonly ip: string | undefined;
  /** Correlation id, sent to the engine so its decision log joins the library's record. */
  readonly requestId: string;
  /** Risk score 0–100, when context risk is on. */
  readonly risk?: number;
  /** Country (ISO 3166-1 alpha-2) of the client address, when known. */
  readonly country?: string;
  /** The risk findings of the request (e.g. `new_country`), when context risk is on. */
  readonly findings?: readonly string[];
}

/** The resource of a check: its kind (the `@Can` subject), id and the loaded record. @publicApi */
export interface PolicyResource {
  readonly kind: string;
  /** The record's id; absent for a check on the kind (no record loaded). */
  readonly id?: string;
  /** The loaded record's attributes (empty for a check on the kind). */
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** One check of a batch: an action on a record, and the fields it touches. @publicApi */
export interface PolicyCheck {
  readonly resource: PolicyResource;
  readonly action: string;
  /** Fields the request changes or asks for; each must be allowed too. */
  readonly fields: readonly string[];
}

/** The answer to one {@link PolicyCheck}. @publicApi */
export interface PolicyVerdict {
  readonly allowed: boolean;
  /** The fields refused, when the action itself is allowed. */
  readonly refusedFields: readonly string[];
  /** What decided, for the decision record (the engine's policy, rule and call id). */
  readonly rule: DecisionRule;
}

/**
 * What a principal may do to *some* record of a kind, as a query condition in the dialect of
 * `AuthorizationService.conditionFor` (`null`: nothing, `{}`: every record). @publicApi
 */
export interface PolicyPlan {
  readonly condition: QueryCondition | null;
  /** Fields refused even where the action is allowed (only those asked for). */
  readonly refusedFields: readonly string[];
  readonly rule: DecisionRule;
}

/**
 * A policy decision point outside the in-process CASL abilities (Cerbos; an OPA adapter would
 * implement the same two calls). The guards call it with everything a policy may read; it must
 * fail closed: throw a `DependencyUnavailableError` (503) when it cannot answer. @publicApi
 */
export interface PolicyDecisionPoint {
  /** Engine name for records and metrics, e.g. `cerbos`. */
  readonly engine: string;
  /** Decides every check of one request in one call, answers in the same order. */
  check(
    principal: Principal,
    environment: PolicyEnvironment,
    checks: readonly PolicyCheck[],
  ): Promise<PolicyVerdict[]>;
  /** What `principal` may do to some `kind` (type-level checks and list scoping). */
  plan(
    principal: Principal,
    environment: PolicyEnvironment,
    kind: string,
    action: string,
    fields?: readonly string[],
  ): Promise<PolicyPlan>;
}

/**
 * Injection token of the external {@link PolicyDecisionPoint}; when none is provided, CASL
 * abilities decide (the default). @publicApi
 */
export const POLICY_DECISION_POINT = Symbol('PolicyDecisionPoint');
