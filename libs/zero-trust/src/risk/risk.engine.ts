import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { AuditService } from '../audit/audit.service.js';
import type { DecisionEvent, DecisionOutcome } from '../audit/decision-event.interface.js';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import type { AbilityEnvSource } from '../context/lazy-env.js';
import type { HttpRequestLike, ZeroTrustRequestContext } from '../context/request-context.js';
import { DependencyUnavailableError, messageOf } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import { SHARED_STATE_METHODS, SharedStateStore } from '../stores/shared-state-store.interface.js';
import { compact } from '../utils/compact.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import {
  combineScores,
  type RiskAssessment,
  type RiskOutcome,
  type RiskReason,
  type RiskSignal,
  type RiskSignalInput,
} from './risk.types.js';
import { DeviceSignal } from './signals/device.signal.js';
import { FailureBurstSignal } from './signals/failure-burst.signal.js';
import { MaxMindGeoLocator } from './signals/geo-locator.js';
import { GeolocationSignal } from './signals/geolocation.signal.js';
import { InjectionSignal } from './signals/injection.signal.js';
import { NetworkSignal } from './signals/network.signal.js';
import { UsageSignal } from './signals/usage.signal.js';

/** Registers an injectable {@link RiskSignal} from any module. @publicApi */
export const RiskSignalProvider = DiscoveryService.createDecorator();

type SignalResult = PromiseSettledResult<Awaited<ReturnType<RiskSignal['evaluate']>>>;

const FAILURE_ACTIONS = new Set([
  'authn_token_missing',
  'authn_token_invalid',
  'authn_token_revoked',
  'authz_fail',
]);

/** The store, with every rejection turned into a 503 `ZT_STORE_UNAVAILABLE`. */
function failClosedStore(store: SharedStateStore, metrics: ZeroTrustMetrics): SharedStateStore {
  const wrapped = {} as Record<string, unknown>;
  for (const method of SHARED_STATE_METHODS) {
    const original = store[method] as (...args: unknown[]) => Promise<unknown>;
    wrapped[method] = (...args: unknown[]): Promise<unknown> =>
      original.apply(store, args).then(undefined, (error: unknown) => {
        metrics.storeError('risk');
        throw new DependencyUnavailableError('ZT_STORE_UNAVAILABLE', error);
      });
  }
  return wrapped as unknown as SharedStateStore;
}

/**
 * Assesses a request's risk once, lends it to ability definitions (`env.risk`, `env.country`,
 * `env.city`) and lets the signals learn from finished requests. @publicApi
 */
@Injectable()
export class RiskEngine implements AbilityEnvSource, OnModuleInit, OnModuleDestroy {
  /** The `env` keys lent to ability definitions. */
  readonly keys = ['risk', 'country', 'city'] as const;
  private readonly logger = new Logger('ZeroTrust');
  private readonly store: SharedStateStore;
  private builtIn: RiskSignal[] = [];
  /** The application's signals: the option's, then `@RiskSignalProvider()`s. */
  private custom: RiskSignal[] = [];
  private learners: RiskSignal[] = [];
  private failures: FailureBurstSignal | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    @Inject(SharedStateStore) store: SharedStateStore,
    private readonly audit: AuditService,
    private readonly discovery: DiscoveryService,
    metrics: ZeroTrustMetrics,
  ) {
    this.store = failClosedStore(store, metrics);
  }

  /** Whether the `risk` option is present. */
  get enabled(): boolean {
    return this.options.risk.enabled;
  }

  async onModuleInit(): Promise<void> {
    const risk = this.options.risk;
    if (!risk.enabled) return;
    const { geolocation: geo, network, device, usage, failures, injection } = risk;
    const db = geo?.database;
    const locator = typeof db === 'string' ? await MaxMindGeoLocator.open(db) : db;
    this.failures = failures && new FailureBurstSignal(failures);
    this.builtIn = [
      geo && locator && new GeolocationSignal(geo, locator),
      network && new NetworkSignal(network),
      device && new DeviceSignal(device),
      usage && new UsageSignal(usage),
      this.failures,
      injection && new InjectionSignal(injection),
    ].filter((signal) => signal !== undefined);
    const custom = [...risk.signals];
    const metadataKey = RiskSignalProvider.KEY;
    for (const { instance } of this.discovery.getProviders({ metadataKey })) {
      const signal = instance as RiskSignal | undefined;
      if (typeof signal?.evaluate === 'function' && !custom.includes(signal)) custom.push(signal);
    }
    this.custom = custom;
    this.learners = [...this.builtIn, ...custom].filter((signal) => signal.record !== undefined);
    this.unsubscribe = this.audit.subscribe(
      (event, context) => this.onDecision(event, context),
      (stage) => FAILURE_ACTIONS.has(stage.action) && stage.code !== 'ZT_RISK_DENIED',
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** The request's assessment, computed once. @throws {DependencyUnavailableError} fail-closed */
  assess(request: HttpRequestLike, context: ZeroTrustRequestContext): Promise<RiskAssessment> {
    const state = (context.risk ??= {});
    if (state.assessed === undefined) {
      const { principal, time: now } = context;
      const input = { context, principal, request, store: this.store, now, facts: new Map() };
      state.assessed = { input, assessment: this.run(input) };
    }
    return state.assessed.assessment;
  }

  /** Lends the assessment to ability definitions (`env.risk`, `env.country`, `env.city`). */
  async load(request: object, context: ZeroTrustRequestContext): Promise<Record<string, unknown>> {
    const assessment = await this.assess(request as HttpRequestLike, context);
    return { risk: assessment.score, country: assessment.country, city: assessment.city };
  }

  /** Learns from a request that succeeded; counts a 401/403 as a failure. Never rejects. */
  async recordOutcome(context: ZeroTrustRequestContext, outcome: RiskOutcome): Promise<void> {
    if (outcome.status === 401 || outcome.status === 403)
      await this.countFailure(context, context.principal);
    const assessed = context.risk?.assessed;
    if (!outcome.success || assessed === undefined) return;
    try {
      await assessed.assessment;
    } catch {
      return; // only an assessment that completed is learnt from
    }
    await Promise.all(
      this.learners.map(async (signal) => {
        try {
          await signal.record?.(assessed.input, outcome);
        } catch (error) {
          this.logger.warn(`Risk signal ${signal.name} failed to learn: ${messageOf(error)}`);
        }
      }),
    );
  }

  // Once per request: the audit trail and the response status may both report it.
  private async countFailure(
    context: ZeroTrustRequestContext,
    principal: DecisionEvent['principal'],
  ): Promise<void> {
    if (this.failures === undefined || principal === undefined) return;
    const state = (context.risk ??= {});
    if (state.failureCounted === true) return;
    state.failureCounted = true;
    try {
      await this.failures.count(this.store, principal);
    } catch (error) {
      this.logger.warn(`Failure not counted for risk: ${messageOf(error)}`);
    }
  }

  private async run(input: RiskSignalInput): Promise<RiskAssessment> {
    // Built-in signals read no other's facts: they run together, their outcomes taken in order.
    // The application's run one at a time after them (they may read earlier facts).
    const evaluate = async (signal: RiskSignal) => signal.evaluate(input);
    const reasons: RiskReason[] = [];
    const take = (signal: RiskSignal, result: SignalResult): void => {
      if (result.status === 'fulfilled') {
        for (const reason of [result.value ?? []].flat())
          if (reason.score > 0) reasons.push({ ...reason, signal: reason.signal || signal.name });
        return;
      }
      const error: unknown = result.reason;
      const failed = `Risk signal ${signal.name} failed`;
      if (this.options.risk.onError === 'ignore')
        return this.logger.warn(`${failed} and was ignored: ${messageOf(error)}`);
      this.logger.error(`${failed}: ${messageOf(error)}`);
      if (error instanceof DependencyUnavailableError) throw error;
      throw new DependencyUnavailableError('ZT_RISK_UNAVAILABLE', error);
    };
    const settled = await Promise.allSettled(this.builtIn.map(evaluate));
    for (const [i, result] of settled.entries()) take(this.builtIn[i] as RiskSignal, result);
    for (const signal of this.custom)
      take(signal, ...(await Promise.allSettled([evaluate(signal)])));
    reasons.sort((a, b) => b.score - a.score);
    const country = input.facts.get('country');
    const city = input.facts.get('city');
    return compact({
      score: combineScores(reasons.map((r) => r.score)),
      reasons,
      country: typeof country === 'string' ? country : undefined,
      city: typeof city === 'string' ? city : undefined,
    });
  }

  /** Records, once per request, each finding that names an event, with the decision taken. */
  recordFindings(
    context: ZeroTrustRequestContext,
    assessment: RiskAssessment,
    decision: DecisionOutcome,
    mode: ZeroTrustMode,
  ): void {
    const state = (context.risk ??= {});
    if (state.reported === true) return;
    state.reported = true;
    const risk = { score: assessment.score, reasons: [...assessment.reasons] };
    for (const { event, reason } of assessment.reasons)
      if (event !== undefined)
        this.audit.record(context, {
          action: event,
          decision,
          mode,
          reason,
          risk,
          finding: event.replace(/^authn_/, ''),
          geo: geoOf(assessment),
        });
  }

  // Counts failures (not the risk guard's own denies); records the findings of a request
  // that authorization refused after reading `env.risk` (the risk guard never saw it).
  private onDecision(event: DecisionEvent, context: ZeroTrustRequestContext): void {
    if (event.decision === 'deny') void this.countFailure(context, event.principal);
    const assessed = context.risk?.assessed;
    if (event.action === 'authz_fail' && assessed !== undefined)
      assessed.assessment.then(
        (assessment) => this.recordFindings(context, assessment, event.decision, event.mode),
        () => undefined, // the failed assessment answered the request already
      );
  }
}

/** The client's place as an ECS `source.geo`, when known. @internal */
export function geoOf({ country, city }: RiskAssessment): DecisionEvent['geo'] {
  if (country === undefined && city === undefined) return undefined;
  return compact({ country_iso_code: country, city_name: city });
}
