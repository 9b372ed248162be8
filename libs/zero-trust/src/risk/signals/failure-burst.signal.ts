import type { PrincipalKind } from '../../identity/principal.interface.js';
import type { ResolvedRiskOptions } from '../../options/validate-options.js';
import type { SharedStateStore } from '../../stores/shared-state-store.interface.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';
import { principalKey } from './keys.js';

type Options = NonNullable<ResolvedRiskOptions['failures']>;

/**
 * `threshold` or more 401/403 of a principal in `window` seconds. Never per address: an outsider
 * could refuse everyone behind a NAT (`authenticationFailures` throttles those). @publicApi
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

  async evaluate({ principal, store }: RiskSignalInput): Promise<RiskReason | undefined> {
    if (principal === undefined) return undefined;
    const count = Number((await store.get(principalKey('failures', principal))) ?? 0);
    const { threshold, window, score } = this.options;
    if (!(count >= threshold)) return undefined;
    const reason = `${count} failed requests in the last ${window} s`;
    return { signal: this.name, score, reason, event: 'authn_fail_burst' };
  }
}
