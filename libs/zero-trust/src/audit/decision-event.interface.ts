import type { ZeroTrustErrorCode } from '../errors/messages.js';
import type { PrincipalKind } from '../identity/principal.interface.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import type { RiskReason } from '../risk/risk.types.js';

/** What was decided: `would-*` only reported (the request went on), `step-up` a 401. @publicApi */
export type DecisionOutcome = 'allow' | 'deny' | 'would-deny' | 'step-up' | 'would-step-up';

/** A stage of a request's decision (authentication, authorization, risk, rate limit). @publicApi */
export interface DecisionStage {
  /**
   * The OWASP logging vocabulary: `authn_token_valid`, `authn_token_missing`, `_invalid`,
   * `_revoked`, `_reuse` (replayed DPoP proof), `malicious_extraneous` (forged forwarded
   * certificate or headers), `authz_success`, `authz_fail`, `authz_not_found`, `risk_assessed`,
   * `authn_step_up_required`, the signals' events and `excess_rate_limit_exceeded`.
   */
  action: string;
  decision: DecisionOutcome;
  /** Whether the stage enforced its decision or only reported it. */
  mode: ZeroTrustMode;
  /** Stable reason code (absent for plain allows). */
  code?: ZeroTrustErrorCode;
  /** Human-readable reason, safe to show. */
  reason?: string;
  /** The authorization check, for `authz_*` stages. */
  authorization?: { action: string; subject: string; subjectId?: string; fields?: string[] };
  /** The rule that allowed or refused, for `authz_*` stages. */
  rule?: DecisionRule;
}

/**
 * One request's decision record (`stages` set; top-level fields from the deciding stage) or a
 * finding of its own. It never contains a token, a key or a secret. @publicApi
 */
export interface DecisionEvent extends DecisionStage {
  /** ISO-8601 time of the decision. */
  time: string;
  /** `success` or `failure` of the checked request (report-only denies are `failure`). */
  outcome: 'success' | 'failure';
  /** The caller, when authenticated, and the OAuth client it came through. */
  principal?: { kind: PrincipalKind; id: string; client?: string };
  /** What the token is bound to: the certificate's `x5t#S256` (mTLS) or the DPoP `jkt`. */
  binding?: { certificate?: string; dpop?: string };
  /** The device the token was issued to, when it names one. */
  device?: string;
  /** Each stage's outcome, in order (decision records only). */
  stages?: DecisionStage[];
  /** The HTTP request: its id, method, route pattern and client address. */
  request: { id: string; method: string; route: string; ip?: string };
  /** The caller's roles, when authenticated. */
  roles?: readonly string[];
  /** The risk score 0–100 and the findings behind it, on assessed requests and findings. */
  risk?: { score: number; reasons: RiskReason[] };
  /** The finding of a risk finding's event, e.g. `impossible_travel`, `malicious_sqli`. */
  finding?: string;
  /** Where the client is, when a geolocation was resolved (ECS `source.geo`). */
  geo?: { country_iso_code?: string; city_name?: string; location?: { lat: number; lon: number } };
}

/** The rule behind an authorization decision, described without the record's values. @publicApi */
export interface DecisionRule {
  /**
   * `granted`: the rule that allowed; `inverted`: a `cannot` rule refused; `conditions`: a `can`
   * rule's conditions do not match; `fields`: not granted on these fields; `none`: no rule.
   */
  kind: 'granted' | 'inverted' | 'conditions' | 'fields' | 'none';
  /** The rule in words, e.g. `can update Invoice (fields: status) if { ownerId, status }`. */
  description: string;
  /** The reason the rule's author gave with `.because(...)`, if any. */
  reason?: string;
}
