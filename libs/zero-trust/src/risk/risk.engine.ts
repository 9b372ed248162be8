import {
  Inject,
  Injectable,
  Logger,
  SetMetadata,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { AuditService } from '../audit/audit.service.js';
import type { DecisionEvent, DecisionOutcome } from '../audit/decision-event.interface.js';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import type { AbilityEnvSource } from '../context/lazy-env.js';
import type { HttpRequestLike, ZeroTrustRequestContext } from '../context/request-context.js';
import { DependencyUnavailableError } from '../errors/zero-trust.error.js';
import type { PrincipalKind } from '../identity/principal.interface.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import { MemorySharedStateStore } from '../stores/memory/memory-shared-state.store.js';
import { SHARED_STATE_METHODS, SharedStateStore } from '../stores/shared-state-store.interface.js';
import { isThenable, type Eventually } from '../utils/eventually.js';
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

/** Metadata key of `@RiskSignalProvider`. @internal */
export const RISK_SIGNAL_KEY = 'zero-trust:risk-signal';

/**
 * Registers an injectable class implementing {@link RiskSignal} with the risk engine: every
 * provider so marked, in any module, is evaluated after the built-in signals.
 *
 * @publicApi
 */
export const RiskSignalProvider = (): ClassDecorator => SetMetadata(RISK_SIGNAL_KEY, true);

const RESOLVED: Promise<void> = Promise.resolve();

/** Audit actions counted as failures by the failure-burst signal. */
const FAILURE_ACTIONS = new Set([
  'authn_token_missing',
  'authn_token_invalid',
  'authn_token_revoked',
  'authz_fail',
]);

/**
 * The store, with every rejection turned into a 503 `ZT_STORE_UNAVAILABLE`. The built-in memory
 * store, when the library answers from it synchronously (see
 * {@link MemorySharedStateStore.accessOf}), never rejects: it is used as it is.
 */
function failClosedStore(store: SharedStateStore, metrics: ZeroTrustMetrics): SharedStateStore {
  if (MemorySharedStateStore.accessOf(store) !== store) return store;
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

interface Assessed {
  input: RiskSignalInput;
  /** The assessment, once complete. */
  result?: RiskAssessment;
  /** Why it failed, once it did. */
  failure?: { error: unknown };
  /** The assessment while signals are still answering. */
  promise?: Promise<RiskAssessment>;
}

/**
 * Assesses the risk of a request once (memoized on its zero-trust context) from the enabled
 * signals, combining their scores with a noisy-OR (see {@link combineScores}). It also lends the
 * score to ability definitions as `env.risk` / `env.country` / `env.city`, learns from finished
 * requests, and counts authentication and authorization failures from the audit trail.
 *
 * @publicApi
 */
@Injectable()
export class RiskEngine implements AbilityEnvSource, OnModuleInit, OnModuleDestroy {
  /** The `env` keys lent to ability definitions. */
  readonly keys = ['risk', 'country', 'city'] as const;
  private readonly logger = new Logger('ZeroTrust');
  private readonly store: SharedStateStore;
  /**
   * Where this engine keeps a request's assessment, and whether its findings were reported: on
   * the request's context, which lives as long as the request (not in a WeakMap keyed by
   * short-lived contexts, which every young-generation collection has to walk).
   */
  private readonly slot = Symbol('zero-trust:risk-assessment');
  private readonly reportedSlot = Symbol('zero-trust:risk-reported');
  /** Whether a request's failure was counted against its principal. */
  private readonly failureSlot = Symbol('zero-trust:risk-failure-counted');
  private signals: RiskSignal[] = [];
  /** How many of `signals` are built in (the first ones). */
  private builtIn = 0;
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

  /** Whether context risk is on (the `risk` option is present). */
  get enabled(): boolean {
    return this.options.risk.enabled;
  }

  /** The signals in evaluation order (built-in first). */
  get activeSignals(): readonly RiskSignal[] {
    return this.signals;
  }

  async onModuleInit(): Promise<void> {
    const risk = this.options.risk;
    if (!risk.enabled) return;
    const signals: RiskSignal[] = [];
    if (risk.geolocation !== undefined) {
      const database = risk.geolocation.database;
      const locator =
        typeof database === 'string' ? await MaxMindGeoLocator.open(database) : database;
      signals.push(new GeolocationSignal(risk.geolocation, locator));
    }
    if (risk.network !== undefined) signals.push(new NetworkSignal(risk.network));
    if (risk.device !== undefined) signals.push(new DeviceSignal(risk.device));
    if (risk.usage !== undefined) signals.push(new UsageSignal(risk.usage));
    if (risk.failures !== undefined) {
      this.failures = new FailureBurstSignal(risk.failures);
      signals.push(this.failures);
    }
    if (risk.injection !== undefined) signals.push(new InjectionSignal(risk.injection));
    this.builtIn = signals.length;
    signals.push(...risk.signals);
    for (const wrapper of this.discovery.getProviders()) {
      const type = wrapper.metatype as object | null | undefined;
      const instance = wrapper.instance as RiskSignal | undefined;
      if (
        typeof type === 'function' &&
        Reflect.getMetadata(RISK_SIGNAL_KEY, type) === true &&
        instance !== undefined &&
        typeof instance.evaluate === 'function' &&
        !signals.includes(instance)
      )
        signals.push(instance);
    }
    this.signals = signals;
    this.unsubscribe = this.audit.subscribe((event, context) => this.onDecision(event, context));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /**
   * The assessment of a request: computed on the first call, the same promise afterwards.
   * @throws {DependencyUnavailableError} 503 when a signal or the store fails and
   *   `risk.onError` is `fail-closed`
   */
  assess(request: HttpRequestLike, context: ZeroTrustRequestContext): Promise<RiskAssessment> {
    try {
      const assessment = this.assessNow(request, context);
      return isThenable(assessment) ? assessment : Promise.resolve(assessment);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The assessment of a request, computed once: the assessment itself when every signal
   * answered at once (the in-process store), a promise otherwise. A failure is thrown, or
   * rejects the promise, on every call.
   *
   * @internal
   */
  assessNow(
    request: HttpRequestLike,
    context: ZeroTrustRequestContext,
  ): Eventually<RiskAssessment> {
    const assessed = this.assessedOf(context);
    if (assessed !== undefined) {
      if (assessed.result !== undefined) return assessed.result;
      if (assessed.failure !== undefined) throw assessed.failure.error;
      return assessed.promise as Promise<RiskAssessment>;
    }
    const entry: Assessed = {
      input: {
        context,
        principal: context.principal,
        request,
        store: this.store,
        now: context.time,
        facts: new Map(),
      },
    };
    (context as unknown as Record<symbol, Assessed>)[this.slot] = entry;
    let outcome: Eventually<RiskAssessment>;
    try {
      outcome = this.run(entry.input);
    } catch (error) {
      entry.failure = { error };
      throw error;
    }
    if (!isThenable(outcome)) {
      entry.result = outcome;
      return outcome;
    }
    entry.promise = Promise.resolve(outcome).then(
      (assessment) => (entry.result = assessment),
      (error: unknown) => {
        entry.failure = { error };
        throw error;
      },
    );
    return entry.promise;
  }

  /** Lends the assessment to ability definitions (`env.risk`, `env.country`, `env.city`). */
  async load(request: object, context: ZeroTrustRequestContext): Promise<Record<string, unknown>> {
    const assessment = await this.assess(request as HttpRequestLike, context);
    return { risk: assessment.score, country: assessment.country, city: assessment.city };
  }

  /**
   * Learns from a finished request (known devices, locations, routes) when it succeeded, and
   * counts a 401/403 answered by a handler as a failure of its principal. Never throws.
   */
  recordOutcome(context: ZeroTrustRequestContext, outcome: RiskOutcome): Promise<void> {
    const pending: Promise<unknown>[] = [];
    try {
      if (outcome.status === 401 || outcome.status === 403) {
        const counted = this.countFailure(context, context.principal);
        if (counted !== undefined) pending.push(counted);
      }
      const assessed = this.assessedOf(context);
      // Only an assessment that completed is learnt from.
      if (outcome.success && assessed !== undefined && assessed.failure === undefined) {
        if (assessed.result !== undefined) this.learn(assessed, outcome, pending);
        else if (assessed.promise !== undefined)
          pending.push(
            assessed.promise.then(
              () => {
                const learning: Promise<unknown>[] = [];
                this.learn(assessed, outcome, learning);
                return Promise.all(learning);
              },
              () => undefined,
            ),
          );
      }
    } catch (error) {
      this.logger.warn(`Risk outcome not recorded: ${describe(error)}`);
    }
    return pending.length === 0 ? RESOLVED : Promise.all(pending).then(() => undefined);
  }

  /**
   * Lets each signal learn from a successful request. A signal with nothing to learn answers
   * synchronously; the others' promises are added to `pending`, each failure logged on its own.
   */
  private learn(assessed: Assessed, outcome: RiskOutcome, pending: Promise<unknown>[]): void {
    for (const signal of this.signals) {
      if (signal.record === undefined) continue;
      const warn = (error: unknown): void =>
        this.logger.warn(`Risk signal ${signal.name} failed to learn: ${describe(error)}`);
      try {
        const learning = signal.record(assessed.input, outcome);
        if (isThenable(learning)) pending.push(Promise.resolve(learning).catch(warn));
      } catch (error) {
        warn(error);
      }
    }
  }

  /**
   * Counts a refused request against the principal that made it, at most once per request
   * (the audit trail and the response status may both report it). A failure no principal owns
   * is not counted here: see {@link FailureBurstSignal}. Never rejects.
   */
  private countFailure(
    context: ZeroTrustRequestContext,
    principal: { kind: PrincipalKind; id: string } | undefined,
  ): Promise<void> | undefined {
    if (this.failures === undefined || principal === undefined) return undefined;
    const slots = context as unknown as Record<symbol, boolean | undefined>;
    if (slots[this.failureSlot] === true) return undefined;
    slots[this.failureSlot] = true;
    return this.failures
      .count(this.store, principal)
      .catch((error: unknown) =>
        this.logger.warn(`Failure not counted for risk: ${describe(error)}`),
      );
  }

  private assessedOf(context: ZeroTrustRequestContext): Assessed | undefined {
    return (context as unknown as Record<symbol, Assessed | undefined>)[this.slot];
  }

  private run(input: RiskSignalInput): Eventually<RiskAssessment> {
    // The built-in signals read no fact another one sets: they start together, so their store
    // round trips overlap (one Redis round trip instead of one per signal). Their outcomes are
    // then taken in order, so the first failing signal decides.
    const started: (Evaluated | Promise<Evaluated>)[] = [];
    for (let i = 0; i < this.builtIn; i++)
      started.push(evaluateSignal(this.signals[i] as RiskSignal, input));
    return this.proceed(input, started, 0, []);
  }

  /**
   * Takes the outcomes of the signals from index `from` on, in order: synchronously while they
   * are there, after each promise otherwise. An evaluation never rejects (a failure is a
   * value). The application's signals (after the built-in ones) start one at a time: they may
   * read the facts of earlier ones.
   */
  private proceed(
    input: RiskSignalInput,
    started: readonly (Evaluated | Promise<Evaluated>)[],
    from: number,
    reasons: RiskReason[],
  ): Eventually<RiskAssessment> {
    for (let i = from; i < this.signals.length; i++) {
      const signal = this.signals[i] as RiskSignal;
      const evaluated = i < started.length ? started[i] : evaluateSignal(signal, input);
      if (evaluated instanceof Promise) {
        return evaluated.then((value) => {
          this.collect(signal, value, reasons);
          return this.proceed(input, started, i + 1, reasons);
        });
      }
      this.collect(signal, evaluated as Evaluated, reasons);
    }
    reasons.sort((a, b) => b.score - a.score);
    const country = input.facts.get('country');
    const city = input.facts.get('city');
    const assessment: { -readonly [K in keyof RiskAssessment]: RiskAssessment[K] } = {
      score: combineScores(reasons.map((r) => r.score)),
      reasons,
    };
    if (typeof country === 'string') assessment.country = country;
    if (typeof city === 'string') assessment.city = city;
    return assessment;
  }

  /** Adds what a signal found to `reasons`, or handles its failure per `risk.onError`. */
  private collect(signal: RiskSignal, evaluated: Evaluated, reasons: RiskReason[]): void {
    if ('error' in evaluated && evaluated.error !== undefined) {
      const error = evaluated.error;
      if (this.options.risk.onError === 'ignore') {
        this.logger.warn(`Risk signal ${signal.name} failed and was ignored: ${describe(error)}`);
        return;
      }
      this.logger.error(`Risk signal ${signal.name} failed: ${describe(error)}`);
      if (error instanceof DependencyUnavailableError) throw error;
      throw new DependencyUnavailableError('ZT_RISK_UNAVAILABLE', error);
    }
    const found = (evaluated as { found: RiskReason | readonly RiskReason[] | undefined }).found;
    if (found === undefined) return;
    for (const reason of Array.isArray(found) ? found : [found as RiskReason]) {
      if (reason.score > 0) reasons.push({ ...reason, signal: reason.signal || signal.name });
    }
  }

  /**
   * Records, once per request, an event for each finding that names one (e.g.
   * `authn_impossible_travel`, `malicious_sqli`) with the decision taken and the score.
   */
  recordFindings(
    context: ZeroTrustRequestContext,
    assessment: RiskAssessment,
    decision: DecisionOutcome,
    mode: ZeroTrustMode,
  ): void {
    const slots = context as unknown as Record<symbol, boolean | undefined>;
    if (slots[this.reportedSlot] === true) return;
    slots[this.reportedSlot] = true;
    const risk = { score: assessment.score, reasons: [...assessment.reasons] };
    for (const reason of assessment.reasons) {
      if (reason.event === undefined) continue;
      this.audit.record(context, {
        action: reason.event,
        decision,
        mode,
        reason: reason.reason,
        risk,
        finding: reason.event.replace(/^authn_/, ''),
        ...geoOf(assessment),
      });
    }
  }

  /**
   * Counts the failures of authenticated principals (not the risk engine's own denies), and
   * records the findings of a request that authorization refused after reading `env.risk`
   * (the interceptor never sees it).
   */
  private onDecision(event: DecisionEvent, context: ZeroTrustRequestContext): void {
    if (!FAILURE_ACTIONS.has(event.action) || event.code === 'ZT_RISK_DENIED') return;
    if (event.decision === 'deny') void this.countFailure(context, event.principal);
    const assessed = this.assessedOf(context);
    if (event.action === 'authz_fail' && assessed !== undefined) {
      if (assessed.result !== undefined)
        this.recordFindings(context, assessed.result, event.decision, event.mode);
      else
        assessed.promise?.then(
          (assessment) => this.recordFindings(context, assessment, event.decision, event.mode),
          () => undefined, // the failed assessment answered the request already
        );
    }
  }
}

/** What a signal found, or how it failed. */
type Evaluated =
  { found: RiskReason | readonly RiskReason[] | undefined; error?: undefined } | { error: unknown };

/**
 * Evaluates one signal without ever throwing or rejecting. Signals that need no I/O answer
 * synchronously: a promise only when the signal returns one.
 */
function evaluateSignal(
  signal: RiskSignal,
  input: RiskSignalInput,
): Evaluated | Promise<Evaluated> {
  try {
    const evaluated = signal.evaluate(input);
    if (!isThenable(evaluated)) return { found: evaluated };
    return Promise.resolve(evaluated).then(
      (found) => ({ found }),
      (error: unknown) => ({ error: error ?? new Error('rejected') }),
    );
  } catch (error) {
    return { error: error ?? new Error('thrown') };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The client's place as an ECS `source.geo` fragment, when the assessment located it. */
export function geoOf(assessment: RiskAssessment): { geo?: DecisionEvent['geo'] } {
  const { country, city } = assessment;
  if (country === undefined && city === undefined) return {};
  // Built field by field: spreading object literals is several times slower here.
  const geo: NonNullable<DecisionEvent['geo']> = {};
  if (country !== undefined) geo.country_iso_code = country;
  if (city !== undefined) geo.city_name = city;
  return { geo };
}
