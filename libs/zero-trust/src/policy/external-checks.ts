import type { AbilityEnvSource } from '../context/lazy-env.js';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import type { Principal } from '../identity/principal.interface.js';
import type { CanCheck } from '../routes/resolver.interface.js';
import { subjectOf } from '../routes/route-policy.js';
import type {
  PolicyDecisionPoint,
  PolicyEnvironment,
  PolicyPlan,
  PolicyVerdict,
} from './decision-point.js';

export type { PolicyVerdict };

/** A request's environment, computed once however many calls need it. */
const ENVIRONMENTS = new WeakMap<ZeroTrustRequestContext, Promise<PolicyEnvironment>>();
/** The plans made for a request's type-level checks, reused to scope its list. */
const PLANS = new WeakMap<ZeroTrustRequestContext, Map<string, PolicyPlan>>();

const planKey = (kind: string, action: string) => `${action}\u0000${kind}`;

/**
 * The request's full environment: every lazy source is loaded, since an external engine cannot
 * ask for a value later (with context risk on, every checked request is assessed). @internal
 */
export function environmentOf(
  sources: readonly AbilityEnvSource[],
  request: object,
  context: ZeroTrustRequestContext,
): Promise<PolicyEnvironment> {
  let environment = ENVIRONMENTS.get(context);
  if (environment === undefined) {
    environment = (async () => {
      const loaded = await Promise.all(sources.map((source) => source.load(request, context)));
      const values = Object.assign({}, ...loaded) as { risk?: number; country?: string };
      const assessment = await context.risk?.assessed?.assessment;
      const findings = assessment?.reasons.filter((r) => r.score > 0).map((r) => r.signal);
      const { time, ip, requestId } = context;
      return { time, ip, requestId, risk: values.risk, country: values.country, findings };
    })();
    ENVIRONMENTS.set(context, environment);
  }
  return environment;
}

/** The plan a type-level check of this request already made for `action` on `kind`. @internal */
export function plannedCondition(
  context: ZeroTrustRequestContext,
  kind: string,
  action: string,
): PolicyPlan | undefined {
  return PLANS.get(context)?.get(planKey(kind, action));
}

/** What {@link decideExternally} needs of the guard. @internal */
export interface ExternalDecider {
  fieldsOf: (check: CanCheck) => string[];
  decide: (check: CanCheck, verdict: PolicyVerdict, target: object | string) => void;
  /** Loads a check's record (a record-level step); absent: checks on the kind. */
  load?: ((check: CanCheck) => Promise<object>) | undefined;
}

/**
 * Decides `checks` by `pdp` and records each through the guard. Without `guard.load`: type-level
 * (may the principal do the action to *some* record?), one plan per check, made concurrently and
 * kept for {@link plannedCondition}. With it: every record is loaded in order, then all are
 * decided in one batched call. @internal
 */
export async function decideExternally(
  pdp: PolicyDecisionPoint,
  sources: readonly AbilityEnvSource[],
  { request, context, mode }: { request: object; context: ZeroTrustRequestContext; mode: string },
  checks: readonly CanCheck[],
  { fieldsOf, decide, load }: ExternalDecider,
): Promise<true> {
  const principal = context.principal as Principal;
  const environment = environmentOf(sources, request, context);
  if (load === undefined) {
    const env = await environment;
    const plans = await Promise.all(
      checks.map((c) => pdp.plan(principal, env, subjectOf(c), c.action, fieldsOf(c))),
    );
    let kept = PLANS.get(context);
    if (kept === undefined) PLANS.set(context, (kept = new Map()));
    for (const [i, check] of checks.entries())
      kept.set(planKey(subjectOf(check), check.action), plans[i] as PolicyPlan);
    checks.forEach((check, i) => {
      const { condition, refusedFields, rule } = plans[i] as PolicyPlan;
      // Allowed on the kind when some record may be acted on.
      decide(check, { allowed: condition !== null, refusedFields, rule }, subjectOf(check));
    });
    return true;
  }
  const records: object[] = [];
  for (const check of checks) records.push(await load(check));
  const batch = checks.map((check, i) => {
    const attributes = records[i] as Record<string, unknown>;
    const { id } = attributes;
    const resource = {
      kind: subjectOf(check),
      id: typeof id === 'string' || typeof id === 'number' ? String(id) : undefined,
      attributes,
    };
    return { resource, action: check.action, fields: fieldsOf(check) };
  });
  const verdicts = await pdp.check(principal, await environment, batch);
  checks.forEach((check, i) => {
    const record = records[i] as object;
    let verdict = verdicts[i] as PolicyVerdict;
    context.resources.set(subjectOf(check), record);
    // Refused on the record after the type-level step allowed the kind: its conditions failed.
    if (!verdict.allowed && verdict.rule.kind === 'none' && mode !== 'report-only') {
      const description = `${verdict.rule.description}: the conditions do not match this record`;
      verdict = { ...verdict, rule: { ...verdict.rule, kind: 'conditions', description } };
    }
    decide(check, verdict, record);
  });
  return true;
}
