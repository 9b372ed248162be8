import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, register as globalRegistry } from 'prom-client';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import type { DecisionEvent } from '../audit/decision-event.interface.js';

/** Label values longer than this are cut: labels name code-defined things, never input. */
const MAX_LABEL = 64;

function label(value: string): string {
  return value.length > MAX_LABEL ? value.slice(0, MAX_LABEL) : value;
}

/** In a shared registry (the global one), a second module instance reuses the metrics. */
function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** Distinct label sets a tally keeps; past it, increments go to prom-client at once. */
const MAX_TALLIED = 1024;

/**
 * Increments of one labelled counter, tallied on the request path and added to the counter
 * whenever prom-client collects it (every scrape, every `registry.metrics()` or `get()`), so
 * what is read is always complete. A decision then costs a map lookup instead of prom-client's
 * label validation and hashing (about a microsecond each, two or three per request).
 */
class CounterTally<L extends string> {
  private readonly pending = new Map<string, { labels: Record<L, string>; count: number }>();
  private counter: Counter<L> | undefined;

  /** Adds the pending increments to the counter (its `collect`). */
  flush(): void {
    const counter = this.counter;
    if (counter === undefined) return;
    for (const entry of this.pending.values()) {
      if (entry.count === 0) continue;
      const count = entry.count;
      entry.count = 0;
      counter.inc(entry.labels, count);
    }
  }

  /** Counts one increment of the label set `labels`, whose values joined make `key`. */
  add(key: string, labels: () => Record<L, string>): void {
    const entry = this.pending.get(key);
    if (entry !== undefined) {
      entry.count += 1;
    } else if (this.pending.size < MAX_TALLIED) {
      this.pending.set(key, { labels: labels(), count: 1 });
    } else {
      this.counter?.inc(labels());
    }
  }

  /** A counter that flushes this tally when collected. */
  static counter<L extends string>(
    configuration: ConstructorParameters<typeof Counter<L>>[0],
  ): Counter<L> {
    const tally = new CounterTally<L>();
    const counter = new Counter<L>({ ...configuration, collect: () => tally.flush() });
    tally.counter = counter;
    TALLIES.set(counter, tally);
    return counter;
  }

  /** The tally of a counter made by {@link CounterTally.counter}, else one that counts at once. */
  static of<L extends string>(counter: Counter<L>): CounterTally<L> {
    const known = TALLIES.get(counter) as CounterTally<L> | undefined;
    if (known !== undefined) return known;
    const direct = new CounterTally<L>();
    direct.counter = counter;
    direct.add = (_key, labels) => counter.inc(labels());
    return direct;
  }
}

/** The tally behind each counter this module made, for a second module instance to share. */
const TALLIES = new WeakMap<object, CounterTally<string>>();

/**
 * The library's Prometheus metrics (prom-client). Every label has a small, code-defined set
 * of values: reason codes, decisions, the subjects and actions of `@Can` checks, signal
 * names. Never a user id, a raw path or a request id.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `zero_trust_authentication_total` | counter | `result`, `reason` |
 * | `zero_trust_authorization_decisions_total` | counter | `decision`, `subject`, `action` |
 * | `zero_trust_risk_score` | histogram | |
 * | `zero_trust_risk_signals_total` | counter | `signal` |
 * | `zero_trust_token_verification_seconds` | histogram | `result` |
 * | `zero_trust_jwks_refresh_total` | counter | `result` |
 * | `zero_trust_jwks_keys` | gauge | |
 * | `zero_trust_jwks_last_refresh_timestamp_seconds` | gauge | |
 * | `zero_trust_store_errors_total` | counter | `concern` |
 * | `zero_trust_store_full_total` | counter | `concern` |
 * | `zero_trust_audit_events_dropped_total` | counter | |
 *
 * @publicApi
 */
@Injectable()
export class ZeroTrustMetrics {
  /** The registry the metrics live in: serve `await registry.metrics()` to Prometheus. */
  readonly registry: Registry;
  private readonly authentication: CounterTally<'result' | 'reason'>;
  private readonly authorization: CounterTally<'decision' | 'subject' | 'action'>;
  private readonly riskScore: Histogram;
  private readonly riskSignals: Counter<'signal'>;
  private readonly verification: Histogram<'result'>;
  private readonly jwksRefresh: Counter<'result'>;
  private readonly jwksKeys: Gauge;
  private readonly jwksRefreshedAt: Gauge;
  private readonly storeErrors: Counter<'concern'>;
  private readonly storeFullRefusals: Counter<'concern'>;
  private readonly dropped: Counter;

  constructor(@Inject(ZERO_TRUST_OPTIONS) options: Pick<ResolvedZeroTrustOptions, 'monitoring'>) {
    const configured = options.monitoring.metrics.registry;
    this.registry = configured === 'global' ? globalRegistry : (configured ?? new Registry());
    const registers = [this.registry];
    this.authentication = CounterTally.of(
      reuse(this.registry, 'zero_trust_authentication_total', () =>
        CounterTally.counter({
          name: 'zero_trust_authentication_total',
          help: 'Authentication decisions by result (success, failure) and reason code.',
          labelNames: ['result', 'reason'],
          registers,
        }),
      ),
    );
    this.authorization = CounterTally.of(
      reuse(this.registry, 'zero_trust_authorization_decisions_total', () =>
        CounterTally.counter({
          name: 'zero_trust_authorization_decisions_total',
          help: 'Authorization decisions (allow, deny, would-deny) by subject type and action.',
          labelNames: ['decision', 'subject', 'action'],
          registers,
        }),
      ),
    );
    this.riskScore = reuse(
      this.registry,
      'zero_trust_risk_score',
      () =>
        new Histogram({
          name: 'zero_trust_risk_score',
          help: 'Context risk scores of assessed requests (0-100).',
          buckets: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
          registers,
        }),
    );
    this.riskSignals = reuse(
      this.registry,
      'zero_trust_risk_signals_total',
      () =>
        new Counter({
          name: 'zero_trust_risk_signals_total',
          help: 'Risk findings reported, by finding (e.g. impossible_travel, malicious_sqli).',
          labelNames: ['signal'],
          registers,
        }),
    );
    this.verification = reuse(
      this.registry,
      'zero_trust_token_verification_seconds',
      () =>
        new Histogram({
          name: 'zero_trust_token_verification_seconds',
          help: 'Time to verify an access token not found in the verified-token cache.',
          labelNames: ['result'],
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
          registers,
        }),
    );
    this.jwksRefresh = reuse(
      this.registry,
      'zero_trust_jwks_refresh_total',
      () =>
        new Counter({
          name: 'zero_trust_jwks_refresh_total',
          help: "Fetches of the issuer's key set, by result (success, failure).",
          labelNames: ['result'],
          registers,
        }),
    );
    this.jwksKeys = reuse(
      this.registry,
      'zero_trust_jwks_keys',
      () =>
        new Gauge({
          name: 'zero_trust_jwks_keys',
          help: "Usable keys in the issuer's key set.",
          registers,
        }),
    );
    this.jwksRefreshedAt = reuse(
      this.registry,
      'zero_trust_jwks_last_refresh_timestamp_seconds',
      () =>
        new Gauge({
          name: 'zero_trust_jwks_last_refresh_timestamp_seconds',
          help: "Unix time of the last successful fetch of the issuer's key set.",
          registers,
        }),
    );
    this.storeErrors = reuse(
      this.registry,
      'zero_trust_store_errors_total',
      () =>
        new Counter({
          name: 'zero_trust_store_errors_total',
          help: 'Failed calls to a store, by concern (revocation, state, ...).',
          labelNames: ['concern'],
          registers,
        }),
    );
    this.storeFullRefusals = reuse(
      this.registry,
      'zero_trust_store_full_total',
      () =>
        new Counter({
          name: 'zero_trust_store_full_total',
          help: 'Requests or revocations refused because a store that never drops entries before they expire is full, by concern (replay, revocation).',
          labelNames: ['concern'],
          registers,
        }),
    );
    this.dropped = reuse(
      this.registry,
      'zero_trust_audit_events_dropped_total',
      () =>
        new Counter({
          name: 'zero_trust_audit_events_dropped_total',
          help: 'Audit events dropped because the audit buffer was full or the sink failed.',
          registers,
        }),
    );
    for (const result of ['success', 'failure']) {
      this.jwksRefresh.inc({ result }, 0);
    }
    this.dropped.inc(0);
    for (const concern of ['replay', 'revocation']) this.storeFullRefusals.inc({ concern }, 0);
  }

  /** Counts one decision event (called by the audit service for every decision, sampled or not). */
  observeDecision(
    event: Pick<
      DecisionEvent,
      'action' | 'decision' | 'code' | 'authorization' | 'risk' | 'finding'
    >,
  ): void {
    // A risk finding is reported beside the request's decision: count it, nothing else.
    if (event.finding !== undefined) {
      this.riskSignals.inc({ signal: label(event.finding) });
      return;
    }
    if (event.action.startsWith('authn_')) {
      const result = event.decision === 'allow' ? 'success' : 'failure';
      const reason = label(event.code ?? 'ok');
      this.authentication.add(`${result}\0${reason}`, () => ({ result, reason }));
    } else if (event.action.startsWith('authz_')) {
      const decision = event.decision;
      const subject = label(event.authorization?.subject ?? 'none');
      const action = label(event.authorization?.action ?? 'none');
      this.authorization.add(`${decision}\0${subject}\0${action}`, () => ({
        decision,
        subject,
        action,
      }));
    }
    // One decision event per assessed request carries the assessment.
    if (event.risk !== undefined) this.riskScore.observe(event.risk.score);
  }

  /** Records the time a token verification took. */
  observeVerification(seconds: number, result: 'success' | 'failure'): void {
    this.verification.observe({ result }, seconds);
  }

  /** Records a fetch of the key set; on success, the number of keys and the time. */
  observeJwksRefresh(result: 'success' | 'failure', keys?: number, at?: Date): void {
    this.jwksRefresh.inc({ result });
    if (keys !== undefined) this.jwksKeys.set(keys);
    if (at !== undefined) this.jwksRefreshedAt.set(at.getTime() / 1000);
  }

  /** Counts a failed store call; `concern` is a fixed word (`revocation`, `state`, `dpop`, ...). */
  storeError(concern: string): void {
    this.storeErrors.inc({ concern: label(concern) });
  }

  /** Counts one refusal by a full store; `concern` is `replay` or `revocation`. */
  storeFull(concern: 'replay' | 'revocation'): void {
    this.storeFullRefusals.inc({ concern });
  }

  /** Counts audit events dropped. */
  auditDropped(count = 1): void {
    this.dropped.inc(count);
  }

  /** The exposition text and its content type, to answer a scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
