import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, register as globalRegistry } from 'prom-client';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import type { DecisionEvent } from '../audit/decision-event.interface.js';

/** Labels name code-defined things, never input: longer values are cut. */
const label = (value: string): string => value.slice(0, 64);

/** The metrics, created in `registry` or, in a shared one (the global), reused by name. */
function metricsIn(registry: Registry) {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(
    name: string,
    help: string,
    buckets: number[],
    labelNames: L[] = [],
  ) =>
    (registry.getSingleMetric(name) as Histogram<L> | undefined) ??
    new Histogram<L>({ name, help, buckets, labelNames, registers });
  const gauge = (name: string, help: string) =>
    (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers });
  return {
    authentication: counter(
      'zero_trust_authentication_total',
      'Authentication decisions by result (success, failure) and reason code.',
      ['result', 'reason'],
    ),
    authorization: counter(
      'zero_trust_authorization_decisions_total',
      'Authorization decisions (allow, deny, would-deny) by subject type and action.',
      ['decision', 'subject', 'action'],
    ),
    riskScore: histogram(
      'zero_trust_risk_score',
      'Context risk scores of assessed requests (0-100).',
      [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    ),
    riskSignals: counter(
      'zero_trust_risk_signals_total',
      'Risk findings reported, by finding (e.g. impossible_travel, malicious_sqli).',
      ['signal'],
    ),
    verification: histogram(
      'zero_trust_token_verification_seconds',
      'Time to verify an access token not found in the verified-token cache.',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      ['result'],
    ),
    jwksRefresh: counter(
      'zero_trust_jwks_refresh_total',
      "Fetches of the issuer's key set, by result (success, failure).",
      ['result'],
    ),
    jwksKeys: gauge('zero_trust_jwks_keys', "Usable keys in the issuer's key set."),
    jwksRefreshedAt: gauge(
      'zero_trust_jwks_last_refresh_timestamp_seconds',
      "Unix time of the last successful fetch of the issuer's key set.",
    ),
    storeErrors: counter(
      'zero_trust_store_errors_total',
      'Failed calls to a store, by concern (revocation, state, ...).',
      ['concern'],
    ),
    storeFull: counter(
      'zero_trust_store_full_total',
      'Requests or revocations refused because a store that never drops entries before they expire is full, by concern (replay, revocation).',
      ['concern'],
    ),
    dropped: counter(
      'zero_trust_audit_events_dropped_total',
      'Audit events dropped because the audit buffer was full or the sink failed.',
    ),
  };
}

/**
 * The library's Prometheus metrics (prom-client; names and labels in the README). Every label
 * has a small, code-defined set of values: never a user id, a raw path or a request id.
 * @publicApi
 */
@Injectable()
export class ZeroTrustMetrics {
  /** The registry the metrics live in: serve `await registry.metrics()` to Prometheus. */
  readonly registry: Registry;
  private readonly m: ReturnType<typeof metricsIn>;

  constructor(@Inject(ZERO_TRUST_OPTIONS) options: Pick<ResolvedZeroTrustOptions, 'monitoring'>) {
    const configured = options.monitoring.metrics.registry;
    this.registry = configured === 'global' ? globalRegistry : (configured ?? new Registry());
    this.m = metricsIn(this.registry);
    // Series an alert reads exist from the start, at 0.
    for (const result of ['success', 'failure']) this.m.jwksRefresh.inc({ result }, 0);
    this.m.dropped.inc(0);
    for (const concern of ['replay', 'revocation']) this.m.storeFull.inc({ concern }, 0);
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
      this.m.riskSignals.inc({ signal: label(event.finding) });
      return;
    }
    if (event.action.startsWith('authn_')) {
      const result = event.decision === 'allow' ? 'success' : 'failure';
      this.m.authentication.inc({ result, reason: label(event.code ?? 'ok') });
    } else if (event.action.startsWith('authz_')) {
      const { subject = 'none', action = 'none' } = event.authorization ?? {};
      const decision = event.decision;
      this.m.authorization.inc({ decision, subject: label(subject), action: label(action) });
    }
    // One decision event per assessed request carries the assessment.
    if (event.risk !== undefined) this.m.riskScore.observe(event.risk.score);
  }

  /** Records the time a token verification took. */
  observeVerification(seconds: number, result: 'success' | 'failure'): void {
    this.m.verification.observe({ result }, seconds);
  }

  /** Records a fetch of the key set; on success, the number of keys and the time. */
  observeJwksRefresh(result: 'success' | 'failure', keys?: number, at?: Date): void {
    this.m.jwksRefresh.inc({ result });
    if (keys !== undefined) this.m.jwksKeys.set(keys);
    if (at !== undefined) this.m.jwksRefreshedAt.set(at.getTime() / 1000);
  }

  /** Counts a failed store call; `concern` is a fixed word (`revocation`, `state`, `dpop`, ...). */
  storeError(concern: string): void {
    this.m.storeErrors.inc({ concern: label(concern) });
  }

  /** Counts one refusal by a full store; `concern` is `replay` or `revocation`. */
  storeFull(concern: 'replay' | 'revocation'): void {
    this.m.storeFull.inc({ concern });
  }

  /** Counts audit events dropped. */
  auditDropped(count = 1): void {
    this.m.dropped.inc(count);
  }

  /** The exposition text and its content type, to answer a scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
