import { BlockList, isIP } from 'node:net';
import { normalizeAddress } from '../../context/client-address.js';
import { AddressSet } from '../../utils/address-set.js';
import type { ResolvedRiskOptions } from '../../options/validate-options.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';

type Options = NonNullable<ResolvedRiskOptions['network']>;

function blockListOf(entries: readonly string[]): AddressSet {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return new AddressSet(list);
}

/**
 * Network location of the client address (`context.ip`, through trusted proxies only): a deny
 * list for everyone, and per-service allow lists (a service calling from elsewhere, or from an
 * unknown address, is refused).
 *
 * @publicApi
 */
export class NetworkSignal implements RiskSignal {
  readonly name = 'network';
  private readonly deny: AddressSet;
  private readonly services = new Map<string, AddressSet>();

  constructor(private readonly options: Options) {
    this.deny = blockListOf(options.deny);
    for (const [id, blocks] of Object.entries(options.services))
      this.services.set(id, blockListOf(blocks));
  }

  evaluate(input: RiskSignalInput): RiskReason | undefined {
    const ip = input.context.ip === undefined ? undefined : normalizeAddress(input.context.ip);
    if (ip !== undefined && this.deny.has(ip)) {
      return {
        signal: this.name,
        score: this.options.score,
        reason: 'the client address is on the deny list',
      };
    }
    const principal = input.principal;
    if (principal === undefined || principal.kind === 'user') return undefined;
    const allowed = this.services.get(principal.id);
    if (allowed === undefined) return undefined;
    if (ip === undefined || !allowed.has(ip)) {
      return {
        signal: this.name,
        score: this.options.score,
        reason: 'the service calls from outside its allowed networks',
      };
    }
    return undefined;
  }
}
