import type { RiskReason, RiskSignalInput } from '../risk.types.js';
import { BuiltInSignal, inList } from './built-in.js';

/** The client address: a deny list, and per-service allow lists. @internal */
export class NetworkSignal extends BuiltInSignal<'network'> {
  readonly name = 'network';
  private readonly deny = inList(this.options.deny);
  private readonly services = new Map(
    Object.entries(this.options.services).map(([id, blocks]) => [id, inList(blocks)]),
  );

  evaluate({ context: { ip }, principal }: RiskSignalInput): RiskReason | undefined {
    const { score } = this.options;
    if (this.deny(ip)) return this.found(score, 'the client address is on the deny list');
    if (principal === undefined || principal.kind === 'user') return undefined;
    const allowed = this.services.get(principal.id);
    if (allowed === undefined || allowed(ip)) return undefined;
    return this.found(score, 'the service calls from outside its allowed networks');
  }
}
