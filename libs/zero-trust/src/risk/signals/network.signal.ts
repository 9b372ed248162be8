import { BlockList, isIP } from 'node:net';
import { normalizeAddress } from '../../context/client-address.js';
import type { ResolvedRiskOptions } from '../../options/validate-options.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';

type Options = NonNullable<ResolvedRiskOptions['network']>;

/** Whether an address is in a list of addresses and CIDR blocks (`/0` included, unlike proxy-addr). */
function inList(entries: readonly string[]): (ip: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (ip) => {
    const address = ip === undefined ? '' : normalizeAddress(ip);
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** The client address: a deny list, and per-service allow lists. @publicApi */
export class NetworkSignal implements RiskSignal {
  readonly name = 'network';
  private readonly deny: (ip: string | undefined) => boolean;
  private readonly services = new Map<string, (ip: string | undefined) => boolean>();

  constructor(private readonly options: Options) {
    this.deny = inList(options.deny);
    for (const [id, blocks] of Object.entries(options.services))
      this.services.set(id, inList(blocks));
  }

  evaluate({ context: { ip }, principal }: RiskSignalInput): RiskReason | undefined {
    const { score } = this.options;
    if (this.deny(ip))
      return { signal: this.name, score, reason: 'the client address is on the deny list' };
    if (principal === undefined || principal.kind === 'user') return undefined;
    const allowed = this.services.get(principal.id);
    if (allowed === undefined || allowed(ip)) return undefined;
    const reason = 'the service calls from outside its allowed networks';
    return { signal: this.name, score, reason };
  }
}
