import type { ZeroTrustErrorCode } from '../errors/messages.js';
import type { PrincipalKind } from '../identity/principal.interface.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';

/**
 * What was decided. `would-deny` is a deny recorded in report-only mode: the request went on.
 *
 * @publicApi
 */
export type DecisionOutcome = 'allow' | 'deny' | 'would-deny';

/**
 * One authentication or authorization decision, as written to the audit trail.
 * It never contains a token, a key or a secret.
 *
 * @publicApi
 */
export interface DecisionEvent {
  /** ISO-8601 time of the decision. */
  time: string;
  /**
   * The event in OWASP logging vocabulary: `authn_token_valid`, `authn_token_missing`,
   * `authn_token_invalid`, `authn_token_revoked`, `authz_success`, `authz_fail`, `authz_not_found`.
   */
  action: string;
  /** `success` or `failure` of the checked request (report-only denies are `failure`). */
  outcome: 'success' | 'failure';
  /** The decision. */
  decision: DecisionOutcome;
  /** Stable reason code (absent for plain allows). */
  code?: ZeroTrustErrorCode;
  /** Human-readable reason, safe to show. */
  reason?: string;
  /** Whether authorization was enforced or only reported. */
  mode: ZeroTrustMode;
  /** The caller, when authenticated. */
  principal?: { kind: PrincipalKind; id: string };
  /** The HTTP request. */
  request: { id: string; method: string; route: string; ip?: string };
  /** The authorization check, for `authz_*` events. */
  authorization?: { action: string; subject: string; subjectId?: string; fields?: string[] };
}
