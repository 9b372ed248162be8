import type { ZeroTrustErrorCode } from '../errors/messages.js';
import type { PrincipalKind } from '../identity/principal.interface.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import type { RiskReason } from '../risk/risk.types.js';

/**
 * What was decided. `would-deny` is a deny recorded in report-only mode: the request went on.
 * `step-up` asked for a recent, stronger authentication (401); `would-step-up` is its
 * report-only form.
 *
 * @publicApi
 */
export type DecisionOutcome = 'allow' | 'deny' | 'would-deny' | 'step-up' | 'would-step-up';

/**
 * One stage of a request's decision (authentication, type-level authorization, context risk,
 * record-level authorization, rate limit), as the guard decided it: allows too, with the rule
 * that allowed or refused when there is one.
 *
 * @publicApi
 */
export interface DecisionStage {
  /** The stage's OWASP action, e.g. `authn_token_valid`, `authz_success`, `risk_assessed`. */
  action: string;
  /** What the stage decided. */
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
 * What the audit trail receives: the decision record of one request (`stages` set), or an event
 * that is no request's decision (a risk finding, forwarding headers that could not be followed,
 * ...). A decision record follows OPA and Cerbos decision logs: who (`principal`, `binding`),
 * what (`request`, `authorization`), context (`request.ip`, `geo`, `device`, `risk`), each
 * stage's outcome, the mode and the request id. Its top-level `action`, `decision`, `code`,
 * `reason` and `rule` are the deciding stage's: the one that refused (or would have, in
 * report-only mode), else the last one. It never contains a token, a key or a secret.
 *
 * @publicApi
 */
export interface DecisionEvent extends DecisionStage {
  /** ISO-8601 time of the decision. */
  time: string;
  /**
   * The event in OWASP logging vocabulary: `authn_token_valid`, `authn_token_missing`,
   * `authn_token_invalid`, `authn_token_revoked`, `authn_token_reuse` (replayed DPoP proof),
   * `malicious_extraneous` (forged forwarded client certificate, credentials presented two ways,
   * forwarding headers that could not be followed), `authz_success`, `authz_fail`,
   * `authz_not_found`; context risk adds `risk_assessed`, `authn_step_up_required`, `authz_fail`
   * (code `ZT_RISK_DENIED`) and the signals' events such as `authn_impossible_travel` or
   * `malicious_sqli`; rate limits add `excess_rate_limit_exceeded` (see `toEcsEvent` for how
   * each maps to ECS).
   */
  action: string;
  /** `success` or `failure` of the checked request (report-only denies are `failure`). */
  outcome: 'success' | 'failure';
  /** The caller, when authenticated, and the OAuth client it came through. */
  principal?: { kind: PrincipalKind; id: string; client?: string };
  /**
   * What the token was bound to and proven with: the client certificate's `x5t#S256`
   * thumbprint (mTLS) or the DPoP key's `jkt`.
   */
  binding?: { certificate?: string; dpop?: string };
  /** The device the token was issued to, when it names one. */
  device?: string;
  /** Each stage's outcome, in order (decision records only). */
  stages?: DecisionStage[];
  /** The HTTP request: its id, method, route pattern and client address. */
  request: { id: string; method: string; route: string; ip?: string };
  /** The authorization check: the deciding stage's, else the last one decided. */
  authorization?: DecisionStage['authorization'];
  /** The caller's roles, when authenticated. */
  roles?: readonly string[];
  /**
   * Why the deciding authorization check decided as it did: the rule that allowed, the rule that
   * refused (an inverted rule, or a rule whose conditions the record does not meet) or that no
   * rule grants the action.
   */
  rule?: DecisionRule;
  /**
   * The risk assessment of the request: the combined score 0–100 and the findings that
   * produced it. Present on records of assessed requests and on each finding's own event
   * (`authn_impossible_travel`, `malicious_*`, ...).
   */
  risk?: { score: number; reasons: RiskReason[] };
  /**
   * Set on the events of risk findings only (not on decisions): the finding, e.g.
   * `impossible_travel`, `malicious_sqli` (the `zero_trust_risk_signals_total` label).
   */
  finding?: string;
  /** Where the client is, when a geolocation was resolved (ECS `source.geo`). */
  geo?: {
    country_iso_code?: string;
    city_name?: string;
    location?: { lat: number; lon: number };
  };
}

/**
 * The rule behind an authorization decision, described without the record's values.
 *
 * @publicApi
 */
export interface DecisionRule {
  /**
   * `granted`: the rule that allowed; `inverted`: a `cannot` rule refused; `conditions`: a `can` rule exists but its conditions
   * do not match the record; `fields`: rules grant the action but not on these fields; `none`:
   * no rule grants the action.
   */
  kind: 'granted' | 'inverted' | 'conditions' | 'fields' | 'none';
  /** The rule in words, e.g. `can update Invoice (fields: status) if { ownerId, status }`. */
  description: string;
  /** The reason the rule's author gave with `.because(...)`, if any. */
  reason?: string;
}
