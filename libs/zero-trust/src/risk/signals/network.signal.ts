import { BlockList, isIP } from 'node:net';
import { normalizeAddress } from '../../context/client-address.js';
import type { ResolvedRiskOptions } from '../../options/validate-options.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';

type Options = NonNullable<ResolvedRiskOptions['network']>;

/** An address list of the options: addresses and CIDR blocks. */
class AddressList {
  private readonly list = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(prefix), type);
    }
  }

  has(ip: string | undefined): boolean {
    const family = ip === undefined ? 0 : isIP(ip);
    return family !== 0 && this.list.check(ip as string, family === 6 ? 'ipv6' : 'ipv4');
  }
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
  private readonly deny: AddressList;
  private readonly services = new Map<string, AddressList>();

  constructor(private readonly options: Options) {
    this.deny = new AddressList(options.deny);
    for (const [id, blocks] of Object.entries(options.services))
      this.services.set(id, new AddressList(blocks));
  }

  evaluate({ context, principal }: RiskSignalInput): RiskReason | undefined {
    const ip = context.ip === undefined ? undefined : normalizeAddress(context.ip);
    const { score } = this.options;
    if (this.deny.has(ip))
      return { signal: this.name, score, reason: 'the client address is on the deny list' };
    if (principal === undefined || principal.kind === 'user') return undefined;
    const allowed = this.services.get(principal.id);
    if (allowed === undefined || allowed.has(ip)) return undefined;
    return {
      signal: this.name,
      score,
      reason: 'the service calls from outside its allowed networks',
    };
  }
}
