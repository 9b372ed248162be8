import type { ZeroTrustRequestContext } from '../context/request-context.js';
import type { Principal } from '../identity/principal.interface.js';
import type { SharedStateStore } from '../stores/shared-state-store.interface.js';

/** One reason a signal found for the risk of a request. @publicApi */
export interface RiskReason {
  /** Name of the signal, e.g. `geolocation`. */
  signal: string;
  /** Its risk, 0–100. */
  score: number;
  /** A short human reason, safe to show and log (no token, no raw header value). */
  reason: string;
  /** OWASP event recorded for this finding (e.g. `malicious_sqli`); without one, only scored. */
  event?: string;
}

/** The verdict for one request. @publicApi */
export type RiskVerdict = 'allow' | 'step-up' | 'deny';

/** The risk assessment of one request, from every enabled signal. @publicApi */
export interface RiskAssessment {
  /** Combined score 0–100 ({@link combineScores}). */
  readonly score: number;
  /** What produced the score, highest first. */
  readonly reasons: readonly RiskReason[];
  /** Country (ISO 3166-1 alpha-2) of the client address, when the geolocation signal knows it. */
  readonly country?: string;
  /** City of the client address, when known. */
  readonly city?: string;
}

/** What a signal sees of a request. @publicApi */
export interface RiskSignalInput {
  /** The zero-trust context (client `ip`, route, method, request id, time). */
  readonly context: ZeroTrustRequestContext;
  /** The verified caller, if any (public routes have none). */
  readonly principal: Principal | undefined;
  /** The raw request (Express or Fastify): headers, query, body. */
  readonly request: {
    readonly headers: Readonly<Record<string, string | string[] | undefined>>;
    readonly url?: string;
    readonly originalUrl?: string;
    readonly query?: unknown;
    readonly body?: unknown;
  };
  /** Shared state: every key must start with `zt:risk:` and expire. */
  readonly store: SharedStateStore;
  /** The clock of the decision (pinned in tests): `context.time` unless overridden. */
  readonly now: Date;
  /** Facts earlier signals established (geolocation: `country`, `city`, `latitude`, `longitude`). */
  readonly facts: Map<string, unknown>;
}

/** How a request ended, handed to signals that learn. @publicApi */
export interface RiskOutcome {
  /** HTTP status of the response. */
  readonly status: number;
  /** Whether the request succeeded (status below 400). */
  readonly success: boolean;
}

/**
 * A source of risk: register yours in the `risk.signals` option or decorate an injectable class
 * with `@RiskSignalProvider()`. @publicApi
 */
export interface RiskSignal {
  /** Unique name, used in reasons and logs. */
  readonly name: string;
  /** Scores the request; nothing (or an empty list) when the signal sees no risk. */
  evaluate(
    input: RiskSignalInput,
  ):
    | RiskReason
    | readonly RiskReason[]
    | undefined
    | Promise<RiskReason | readonly RiskReason[] | undefined>;
  /** Learns from a finished request (optional). Called after the response, errors ignored. */
  record?(input: RiskSignalInput, outcome: RiskOutcome): void | Promise<void>;
}

/** Noisy-OR of signal scores, `100 × (1 − Π(1 − sᵢ/100))`: two at 50 give 75. @publicApi */
export function combineScores(scores: readonly number[]): number {
  let keep = 1;
  for (const score of scores) {
    const bounded = Math.min(100, Math.max(0, Number.isFinite(score) ? score : 100));
    keep *= 1 - bounded / 100;
  }
  return Math.round((1 - keep) * 100);
}
