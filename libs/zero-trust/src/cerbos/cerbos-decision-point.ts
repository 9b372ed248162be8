import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { hash } from 'node:crypto';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { DecisionRule } from '../audit/decision-event.interface.js';
import { AccessDeniedError, DependencyUnavailableError } from '../errors/zero-trust.error.js';
import type { Principal } from '../identity/principal.interface.js';
import type {
  PolicyCheck,
  PolicyDecisionPoint,
  PolicyEnvironment,
  PolicyPlan,
  PolicyVerdict,
} from '../policy/decision-point.js';
import type {
  CerbosCheckResult,
  CerbosPrincipal,
  CerbosValue,
  Versioned,
} from './cerbos-client.js';
import { validateCerbosOptions, type CerbosOptions } from './cerbos-options.js';
import { planToCondition } from './query-plan.js';

const ALLOW = 'EFFECT_ALLOW';

/** The call outcomes counted: `ok`, `invalid` (refused with 403), or why it failed closed (503). */
type Outcome = 'ok' | 'timeout' | 'unavailable' | 'invalid' | 'error';

function metricsIn(registry: Registry) {
  const registers = [registry];
  const calls =
    (registry.getSingleMetric('zero_trust_pdp_calls_total') as Counter | undefined) ??
    new Counter({
      name: 'zero_trust_pdp_calls_total',
      help: 'Calls to the external policy decision point, by engine, call (check, plan) and outcome (ok; invalid: the PDP refused to evaluate the request, answered 403; timeout, unavailable, error: answered 503). Every outcome but ok failed closed.',
      labelNames: ['engine', 'call', 'outcome'],
      registers,
    });
  const seconds =
    (registry.getSingleMetric('zero_trust_pdp_call_seconds') as Histogram | undefined) ??
    new Histogram({
      name: 'zero_trust_pdp_call_seconds',
      help: 'Time of the calls to the external policy decision point, by engine and call.',
      labelNames: ['engine', 'call'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
  return { calls, seconds };
}

/** Values Cerbos can carry (JSON), `undefined` dropped. */
const json = (value: object): Record<string, CerbosValue> =>
  JSON.parse(JSON.stringify(value)) as Record<string, CerbosValue>;

/**
 * Cerbos as the policy decision point: a `@Can` route's checks go to the PDP in one
 * `CheckResources` call, type-level checks and list scoping through `PlanResources`; every
 * failure (unreachable, slower than `timeout`, erroring) fails closed with a 503
 * (`ZT_PDP_UNAVAILABLE`). What a policy reads:
 *
 * - `P.id`, `P.roles` (the principal's roles and its kind: `user`, `service`, `integration`);
 * - `P.attr`: the principal's attributes, then `kind`, `scopes`, `acr`, `amr`, `authTime`
 *   (seconds), `clientId`, and `env`: `time` (RFC 3339), `ip`, `country`, `risk`, `findings`;
 * - `R.kind` (the `@Can` subject), `R.id`, `R.attr` (the resolved record);
 * - actions: the `@Can` action, and `<action>:<field>` for each field the request touches.
 *
 * Name each rule and give it an `output` (its name) so the decision record names it.
 * @publicApi
 */
export class CerbosDecisionPoint implements PolicyDecisionPoint {
  readonly engine = 'cerbos';
  private readonly logger = new Logger('ZeroTrust');
  private readonly options: ReturnType<typeof validateCerbosOptions>;
  /** The policy version and scope every principal and resource carries. */
  private readonly versioned: Versioned;
  private readonly metrics: ReturnType<typeof metricsIn> | undefined;
  private readonly cache: LRUCache<string, PolicyVerdict[] | PolicyPlan> | undefined;

  /**
   * @param options - checked at once: a bad option throws `ZT_OPTIONS_INVALID` listing all
   * @param registry - where the call metrics go (e.g. `ZeroTrustMetrics.registry`)
   */
  constructor(options: CerbosOptions, registry?: Registry) {
    this.options = validateCerbosOptions(options);
    const { policyVersion, scope } = this.options;
    this.versioned = json({ policyVersion, scope });
    this.metrics = registry === undefined ? undefined : metricsIn(registry);
    const { ttl, max } = this.options.cache;
    if (ttl > 0) this.cache = new LRUCache({ max, ttl: Math.round(ttl * 1000) });
    for (const call of ['check', 'plan'])
      for (const outcome of ['ok', 'timeout', 'unavailable', 'invalid', 'error'])
        this.metrics?.calls.inc({ engine: this.engine, call, outcome }, 0);
  }

  /** Decides every check of one request in one call (see `PolicyDecisionPoint.check`). */
  check(
    principal: Principal,
    environment: PolicyEnvironment,
    checks: readonly PolicyCheck[],
  ): Promise<PolicyVerdict[]> {
    const request = {
      principal: this.principalOf(principal, environment),
      resources: checks.map(({ resource, action, fields }) => ({
        resource: {
          kind: resource.kind,
          id: resource.id ?? 'new',
          attr: json(resource.attributes),
          ...this.versioned,
        },
        actions: [action, ...fields.map((field) => `${action}:${field}`)],
      })),
      includeMetadata: true,
      requestId: environment.requestId,
    };
    return this.cached(request, 'check', async (signal) => {
      const response = await this.options.client.checkResources(request, { signal });
      return checks.map((check, i) =>
        this.verdictOf(check, response.results[i], response.cerbosCallId),
      );
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
    const [main, ...perField] = await Promise.all(
      [action, ...fields.map((field) => `${action}:${field}`)].map((asked) =>
        this.planOne(principal, environment, kind, asked),
      ),
    );
    const plan = main as PolicyPlan;
    const refusedFields = fields.filter((_, i) => perField[i]?.condition === null);
    return refusedFields.length === 0 ? plan : { ...plan, refusedFields };
  }

  /** Whether the PDP answers its health check within the timeout. */
  async health(): Promise<{ up: boolean; status: string }> {
    try {
      const signal = AbortSignal.timeout(this.options.timeout * 10);
      const { client } = this.options;
      const { status } = client.checkHealth
        ? await client.checkHealth(undefined, { signal })
        : { status: 'UNKNOWN' };
      return { up: status === 'SERVING', status };
    } catch (error) {
      return { up: false, status: error instanceof Error ? error.message : String(error) };
    }
  }

  private planOne(
    principal: Principal,
    environment: PolicyEnvironment,
    kind: string,
    action: string,
  ): Promise<PolicyPlan> {
    const request = {
      principal: this.principalOf(principal, environment),
      resource: { kind, ...this.versioned },
      actions: [action],
      requestId: environment.requestId,
    };
    return this.cached(request, 'plan', async (signal) => {
      const plan = await this.options.client.planResources(request, { signal });
      const call = plan.cerbosCallId;
      const rule = (granted: boolean, description: string): DecisionRule => ({
        kind: granted ? 'granted' : 'none',
        description: `cerbos plan for ${action} on ${kind}: ${description} (call ${call})`,
      });
      if (plan.kind === 'KIND_ALWAYS_ALLOWED')
        return { condition: {}, refusedFields: [], rule: rule(true, 'always allowed') };
      if (plan.kind === 'KIND_ALWAYS_DENIED')
        return { condition: null, refusedFields: [], rule: rule(false, 'always denied') };
      if (!('condition' in plan)) throw new Error(`Unknown plan kind ${String(plan.kind)}`);
      const condition = planToCondition(plan.condition);
      return { condition, refusedFields: [], rule: rule(true, 'allowed on some records') };
    });
  }

  private principalOf(principal: Principal, environment: PolicyEnvironment): CerbosPrincipal {
    const { id, kind, roles, scopes, attributes, clientId, token } = principal;
    const { acr, amr, authTime } = token;
    const env = { ...environment, time: environment.time.toISOString(), requestId: undefined };
    const attr = json({ ...attributes, kind, scopes, clientId, acr, amr, authTime, env });
    return { id, roles: [...new Set([...roles, kind])], attr, ...this.versioned };
  }

  private verdictOf(
    { action, fields }: PolicyCheck,
    result: CerbosCheckResult | undefined,
    call: string,
  ): PolicyVerdict {
    const allowed = result?.actions[action] === ALLOW;
    const refusedFields = allowed
      ? fields.filter((f) => result?.actions[`${action}:${f}`] !== ALLOW)
      : [];
    // A named rule with an output says which rule decided; else the policy that matched.
    const output = result?.outputs.find((o) => o.action === action);
    const policy = result?.metadata?.actions[action]?.matchedPolicy || 'no policy matched';
    const rule: DecisionRule = {
      kind: allowed ? (refusedFields.length === 0 ? 'granted' : 'fields') : 'none',
      description: `cerbos ${output?.source ?? policy} (call ${call})`,
    };
    const reason = output?.value;
    if (typeof reason === 'string' && reason !== '') rule.reason = reason;
    return { allowed, refusedFields, rule };
  }

  /** Runs one PDP call under the timeout, measured, failing closed; cached when asked. */
  private async cached<T extends PolicyVerdict[] | PolicyPlan>(
    request: { principal: CerbosPrincipal; requestId?: string },
    call: 'check' | 'plan',
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const key = this.cache && cacheKey(call, request);
    const hit = key === undefined ? undefined : this.cache?.get(key);
    if (hit !== undefined) return hit as T;
    const stop = this.metrics?.seconds.startTimer({ engine: this.engine, call });
    let outcome: Outcome = 'ok';
    try {
      const answer = await run(AbortSignal.timeout(this.options.timeout));
      if (key !== undefined) this.cache?.set(key, answer);
      return answer;
    } catch (error) {
      outcome = outcomeOf(error);
      const cause = error instanceof Error ? error.message : String(error);
      // The PDP refuses to evaluate what the caller's own claims made of the request (a role or
      // an attribute it cannot take): nothing to retry, and no allow either.
      if (outcome === 'invalid') {
        this.logger.warn(`The Cerbos ${call} call was refused as invalid: ${cause}`);
        throw new AccessDeniedError();
      }
      this.logger.error(`The Cerbos ${call} call failed (${outcome}): ${cause}`);
      throw new DependencyUnavailableError('ZT_PDP_UNAVAILABLE', error);
    } finally {
      stop?.();
      this.metrics?.calls.inc({ engine: this.engine, call, outcome });
    }
  }
}

/** The cache key: everything sent but the request's time and id. */
function cacheKey(call: string, request: { principal: CerbosPrincipal; requestId?: string }) {
  const { principal, requestId: _id, ...rest } = request;
  const { env, ...attr } = principal.attr as { env?: Record<string, CerbosValue> };
  const timeless = { ...principal, attr: { ...attr, env: { ...env, time: undefined } } };
  return hash('sha256', JSON.stringify([call, timeless, rest]), 'base64url');
}

/** Why a call failed: the SDK's `NotOK` carries a gRPC status code. */
function outcomeOf(error: unknown): Outcome {
  const { code, cause } = error as { code?: unknown; cause?: { name?: unknown } };
  if (code === 1 || (cause?.name === 'TimeoutError' && code === undefined)) return 'timeout';
  if (code === 14 || code === 13) return 'unavailable';
  return code === 3 ? 'invalid' : 'error';
}
