import type { PrincipalKind } from '../../identity/principal.interface.js';
import type { ResolvedRiskOptions } from '../../options/validate-risk.js';
import { MemorySharedStateStore } from '../../stores/memory/memory-shared-state.store.js';
import type { SharedStateStore } from '../../stores/shared-state-store.interface.js';
import { after, allOf, type Eventually } from '../../utils/eventually.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';
import { addressKey, principalKey } from './keys.js';

type Options = NonNullable<ResolvedRiskOptions['failures']>;

/**
 * Bursts of failures: `threshold` or more 401/403 answers in `window` seconds for the same
 * principal or the same client address. Failures come from the authentication and
 * authorization decisions (through the audit trail) and from handlers' 401/403 errors.
 *
 * @publicApi
 */
export class FailureBurstSignal implements RiskSignal {
  readonly name = 'failures';

  constructor(private readonly options: Options) {}

  /** Counts one failure for an address and, when known, a principal. */
  async count(
    store: SharedStateStore,
    ip: string | undefined,
    principal: { kind: PrincipalKind; id: string } | undefined,
  ): Promise<void> {
    const window = this.options.window;
    await Promise.all([
      ip === undefined ? undefined : store.increment(addressKey('failures', ip), window),
      principal === undefined
        ? undefined
        : store.increment(principalKey('failures', principal), window),
    ]);
  }

  evaluate(input: RiskSignalInput): Eventually<RiskReason | undefined> {
    const { ip } = input.context;
    const store = MemorySharedStateStore.accessOf(input.store);
    const read = allOf([
      ip === undefined ? undefined : store.get(addressKey('failures', ip)),
      input.principal === undefined
        ? undefined
        : store.get(principalKey('failures', input.principal)),
    ]);
    return after(read, ([byAddress, byPrincipal]) => {
      const count = Math.max(Number(byAddress ?? 0), Number(byPrincipal ?? 0));
      if (!(count >= this.options.threshold)) return undefined;
      return {
        signal: this.name,
        score: this.options.score,
        reason: `${count} failed requests in the last ${this.options.window} s`,
        event: 'authn_fail_burst',
      };
    });
  }
}
