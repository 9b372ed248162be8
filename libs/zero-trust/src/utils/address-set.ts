import { BlockList, isIP } from 'node:net';

/** Distinct addresses whose answer is remembered before the memo starts over. */
const MEMO_MAX = 4096;

/**
 * A `BlockList` whose answers are remembered per address string: `BlockList.check` builds a
 * native `SocketAddress` on every call, which a request path pays for several times. The memo
 * is bounded (cleared when full), and the list never changes after construction, so a
 * remembered answer is always the list's answer.
 *
 * @internal
 */
export class AddressSet {
  private readonly memo = new Map<string, boolean>();

  constructor(private readonly list: BlockList = new BlockList()) {}

  /** Whether `address` (IPv4 or IPv6, already normalized) is in the list; false when not an address. */
  has(address: string): boolean {
    const known = this.memo.get(address);
    if (known !== undefined) return known;
    const family = isIP(address);
    const found = family !== 0 && this.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    if (this.memo.size >= MEMO_MAX) this.memo.clear();
    this.memo.set(address, found);
    return found;
  }
}
