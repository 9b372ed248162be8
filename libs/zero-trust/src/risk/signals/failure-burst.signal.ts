import type { PrincipalKind } from '../../identity/principal.interface.js';
import type { ResolvedRiskOptions } from '../../options/validate-options.js';
import type { SharedStateStore } from '../../stores/shared-state-store.interface.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';
import { principalKey } from './keys.js';

type Options = NonNullable<ResolvedRiskOptions['failures']>;

/**
 * Bursts of a principal's own failures: `threshold` or more 401/403 answers to its requests in
 * `window` seconds. Failures come from the authorization decisions (through the audit trail) and
 * from handlers' 401/403 errors.
 *
 * Failures no principal owns (a missing, malformed, forged or revoked token) are not counted:
 * an address is shared (NAT, a proxy, every process of a host), and anyone can send junk from
 * it, so counting them per address would let an outsider refuse every service and step up every
 * user behind it. Those are throttled per address by the `authenticationFailures` option, which
 * only ever refuses unauthenticated attempts.
 *
 * @publicApi
 */
export class FailureBurstSignal implements RiskSignal {
  readonly name = 'failures';

  constructor(private readonly options: Options) {}

  /** Counts one failure of a principal. */
  async count(
    store: SharedStateStore,
    principal: { kind: PrincipalKind; id: string },
  ): Promise<void> {
    await store.increment(principalKey('failures', principal), this.options.window);
  }

  async evaluate(input: RiskSignalInput): Promise<RiskReason | undefined> {
    if (input.principal === undefined) return undefined;
    const count = Number((await input.store.get(principalKey('failures', input.principal))) ?? 0);
    if (!(count >= this.options.threshold)) return undefined;
    return {
      signal: this.name,
      score: this.options.score,
      reason: `${count} failed requests in the last ${this.options.window} s`,
      event: 'authn_fail_burst',
    };
  }
}
