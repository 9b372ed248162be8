import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';

/** The request shape needed to find the peer address (Express and Fastify). @internal */
export interface SocketRequestLike {
  socket?: { remoteAddress?: string | undefined } | undefined;
  raw?: { socket?: { remoteAddress?: string | undefined } | undefined } | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/** Strips the IPv4-mapped IPv6 prefix (`::ffff:10.0.0.1` → `10.0.0.1`) and a zone id. @internal */
export function normalizeAddress(address: string): string {
  const unzoned = address.split('%')[0] ?? address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(unzoned);
  return mapped?.[1] ?? unzoned.toLowerCase();
}

/** The address of the TCP peer (the client or its proxy), never read from a header. @internal */
export function peerAddressOf(request: SocketRequestLike): string | undefined {
  const address = request.socket?.remoteAddress ?? request.raw?.socket?.remoteAddress;
  return address === undefined ? undefined : normalizeAddress(address);
}

/** The problem with one trusted-proxy entry (`proxy-addr` syntax), if any. @internal */
export function trustedProxyProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'string' || entry.length === 0) return 'must be a non-empty string';
  try {
    proxyaddr.compile(entry);
    return undefined;
  } catch {
    return 'must be an IPv4 or IPv6 address, a CIDR block, or loopback';
  }
}

/** The proxies whose forwarding headers are believed (`proxy-addr`'s trust). @publicApi */
export class TrustedProxies {
  private readonly trust: (address: string, hop: number) => boolean;

  /**
   * @param entries - addresses, CIDR blocks, or `loopback`, in `proxy-addr`'s syntax
   * @param header - the one header read for the client address; the other is never read, since
   * a proxy that writes one passes the other through from the client unchanged
   */
  constructor(
    entries: readonly string[],
    private readonly header: 'x-forwarded-for' | 'forwarded' = 'x-forwarded-for',
  ) {
    this.trust = proxyaddr.compile([...entries]);
  }

  /** Whether this peer address is a trusted proxy. */
  isTrusted(peer: string | undefined): boolean {
    return peer !== undefined && this.trust(normalizeAddress(peer), 0);
  }

  /** Whether the request came straight from a trusted proxy. */
  isTrustedPeer(request: SocketRequestLike): boolean {
    return this.isTrusted(peerAddressOf(request));
  }

  /** The client's address: {@link resolveClient}'s address. */
  clientAddressOf(request: SocketRequestLike): string | undefined {
    return this.resolveClient(request).address;
  }

  /**
   * The client's address: from a trusted peer, the configured header read right to left while
   * each hop is a trusted proxy; an entry that is no address ends the walk (with a problem, unless
   * hidden, RFC 7239 §6.3). A client's own entries sit left of its proxy's: it cannot spoof them.
   */
  resolveClient(request: SocketRequestLike): ResolvedClient {
    let client = peerAddressOf(request);
    const raw = request.headers[this.header];
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (client === undefined || value === undefined || value.trim() === '')
      return { address: client };
    // Nearest proxy's last. X-Forwarded-For: comma-separated nodes; Forwarded: each element's `for`.
    const hops = value.split(',').map(this.header === 'forwarded' ? forwardedHop : parseNode);
    for (let i = hops.length - 1; i >= 0 && this.trust(client, hops.length - 1 - i); i--) {
      const hop = hops[i] as Hop;
      if (hop === HIDDEN) break;
      if (hop === MALFORMED) {
        const header = this.header === 'forwarded' ? 'Forwarded' : 'X-Forwarded-For';
        const problem = `${header} entry ${hops.length - i} from the right is not an address`;
        return { address: client, problem };
      }
      client = hop;
    }
    return { address: client };
  }
}

/** The client address, and why forwarding was not followed further (never quoting it). @internal */
export interface ResolvedClient {
  readonly address: string | undefined;
  readonly problem?: string;
}

/** A forwarded hop: an address, or an entry that is no address (malformed or hidden). */
type Hop = string | typeof MALFORMED | typeof HIDDEN;
const MALFORMED = Symbol('malformed');
const HIDDEN = Symbol('hidden');

/** RFC 7239 §6.3 obfuscated identifiers, and `unknown` (§6.2). */
const OBFUSCATED = /^(?:unknown|_[A-Za-z0-9._-]+)$/i;
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):([^:]*)$/;
const BRACKETED = /^\[([^\]]+)\](?::(.*))?$/;
/** One `Forwarded` pair: a token name, `=`, a quoted string or a non-empty token. */
const FORWARDED_PAIR = /^\s*([A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^"\s][^"]*?))\s*$/s;

/** A node-port (RFC 7239 §6.1): a port number, or an obfuscated one. */
function validPort(port: string | undefined): boolean {
  if (port === undefined || /^_[A-Za-z0-9._-]+$/.test(port)) return true;
  return /^\d{1,5}$/.test(port) && Number(port) <= 65_535;
}

/** One forwarded node: IPv4 with optional port, `[IPv6]` with optional port, IPv6, or hidden. */
function parseNode(value: string): Hop {
  const node = value.trim();
  if (OBFUSCATED.test(node)) return HIDDEN;
  const bracketed = BRACKETED.exec(node);
  if (bracketed !== null) {
    const inner = bracketed[1] ?? '';
    return isIP(inner) === 6 && validPort(bracketed[2]) ? normalizeAddress(inner) : MALFORMED;
  }
  const withPort = IPV4_WITH_PORT.exec(node);
  if (withPort !== null && !validPort(withPort[2])) return MALFORMED;
  const address = withPort?.[1] ?? node;
  return isIP(address) === 0 ? MALFORMED : normalizeAddress(address);
}

// RFC 7239 `Forwarded`: split at every `,` and `;`, quoted or not, so a client's unterminated
// quote never swallows the elements its proxies append.
function forwardedHop(element: string): Hop {
  let hop: Hop | undefined;
  for (const pair of element.split(';')) {
    const [, name, quoted, token] = FORWARDED_PAIR.exec(pair) ?? [];
    if (name === undefined) return MALFORMED;
    if (name.toLowerCase() !== 'for') continue;
    if (hop !== undefined) return MALFORMED;
    hop = parseNode(quoted?.replace(/\\(.)/gs, '$1') ?? token ?? '');
  }
  return hop ?? HIDDEN;
}
