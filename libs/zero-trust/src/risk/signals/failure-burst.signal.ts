import type { Principal } from '../../identity/principal.interface.js';
import type { SharedStateStore } from '../../stores/shared-state-store.interface.js';
import type { RiskReason, RiskSignalInput } from '../risk.types.js';
import { BuiltInSignal, principalKey } from './built-in.js';

/**
 * `threshold` or more 401/403 of a principal in `window` seconds. Never per address: an outsider
 * could refuse everyone behind a NAT (`authenticationFailures` throttles those). @internal
 */
export class FailureBurstSignal extends BuiltInSignal<'failures'> {
  readonly name = 'failures';

  /** Counts one failure of a principal. */
  async count(store: SharedStateStore, principal: Pick<Principal, 'kind' | 'id'>): Promise<void> {
    await store.increment(principalKey('failures', principal), this.options.window);
  }

  async evaluate({ principal, store }: RiskSignalInput): Promise<RiskReason | undefined> {
    if (principal === undefined) return undefined;
    const count = Number((await store.get(principalKey('failures', principal))) ?? 0);
    const { threshold, window, score } = this.options;
    if (!(count >= threshold)) return undefined;
    const reason = `${count} failed requests in the last ${window} s`;
    return this.found(score, reason, 'authn_fail_burst');
  }
}
