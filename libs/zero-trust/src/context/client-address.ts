import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';

/**
 * The request shape needed to find the peer address (Express and Fastify both expose `socket`).
 *
 * @internal
 */
export interface SocketRequestLike {
  socket?: { remoteAddress?: string | undefined } | undefined;
  raw?: { socket?: { remoteAddress?: string | undefined } | undefined } | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Strips the IPv4-mapped IPv6 prefix (`::ffff:10.0.0.1` → `10.0.0.1`) and a zone id.
 *
 * @internal
 */
export function normalizeAddress(address: string): string {
  const unzoned = address.split('%')[0] ?? address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(unzoned);
  return mapped?.[1] ?? unzoned.toLowerCase();
}

/**
 * The request's connection: the socket Express exposes as `socket` and Fastify as `raw.socket`.
 *
 * @internal
 */
export function socketOf(request: SocketRequestLike): object | undefined {
  return request.socket ?? request.raw?.socket;
}

/**
 * The address of the TCP peer: the client itself, or the proxy in front of it. Never read from a
 * header.
 *
 * @internal
 */
export function peerAddressOf(request: SocketRequestLike): string | undefined {
  const address = request.socket?.remoteAddress ?? request.raw?.socket?.remoteAddress;
  return address === undefined ? undefined : normalizeAddress(address);
}

/**
 * Checks one trusted-proxy entry: what `proxy-addr` (Express's `trust proxy`) compiles, an
 * address, a CIDR block or a name such as `loopback`. Returns a problem message, or undefined
 * when the entry is valid.
 *
 * @internal
 */
export function trustedProxyProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'string' || entry.length === 0) return 'must be a non-empty string';
  try {
    proxyaddr.compile(entry);
    return undefined;
  } catch {
    return 'must be an IPv4 or IPv6 address, a CIDR block, or loopback';
  }
}

/**
 * The forwarding header that carries the client address: `X-Forwarded-For` (nginx, ALB, Envoy,
 * Cloudflare, Express's `trust proxy`) or RFC 7239 `Forwarded`.
 *
 * @internal
 */
export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';

/**
 * The set of proxies whose forwarding headers (the configured client-address header,
 * `X-Forwarded-Client-Cert`, `X-Request-Id`) are believed. A header from any other peer is
 * ignored: it could be forged. Trust and the walk are `proxy-addr`'s, as in Express.
 *
 * @publicApi
 */
export class TrustedProxies {
  private readonly trust: (address: string, hop: number) => boolean;

  /**
   * @param entries - addresses, CIDR blocks, or `loopback` (127.0.0.0/8 and ::1), in
   * `proxy-addr`'s syntax; validated by the module options beforehand
   * @param header - the one header read for the client address; the other is never read,
   * because a proxy that writes one passes the other through from the client unchanged
   */
  constructor(
    entries: readonly string[],
    private readonly header: ForwardedHeader = 'x-forwarded-for',
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

  /**
   * The client's address: {@link resolveClient}'s address.
   */
  clientAddressOf(request: SocketRequestLike): string | undefined {
    return this.resolveClient(request).address;
  }

  /**
   * The client's address, and why the forwarding header could not be followed to it if it could
   * not. Only when the peer is a trusted proxy, the configured header (`X-Forwarded-For` or RFC
   * 7239 `Forwarded`, never both) is read right to left, each hop believed while it is a trusted
   * proxy; the first untrusted hop is the client. Entries may carry ports (`203.0.113.7:4711`,
   * `[2001:db8::1]:443`).
   * - An entry that cannot be parsed ends the walk at the last trusted hop, with a problem.
   * - An obfuscated identifier (`unknown`, `_hidden`, RFC 7239 §6.3) or an element without
   *   `for` ends it there too: the client hid its address, which is no error.
   *
   * Whatever a client writes sits left of the address its proxy appends, so the walk stops at
   * that address before reaching it: no header a client sends can make the peer its address.
   */
  resolveClient(request: SocketRequestLike): ResolvedClient {
    const peer = peerAddressOf(request);
    if (peer === undefined || !this.isTrusted(peer)) return { address: peer };
    const value = headerValue(request.headers[this.header]);
    if (value === undefined) return { address: peer };
    return this.header === 'forwarded'
      ? this.walk(peer, forwardedHops(value), 'Forwarded')
      : this.walk(peer, xffHops(value), 'X-Forwarded-For');
  }

  /**
   * Walks `hops` (nearest last) from the trusted peer with `proxy-addr`, while each hop is a
   * trusted proxy. `proxy-addr` takes any text for an address, so it walks only the hops right
   * of the nearest entry that is no address; reaching that entry ends the walk there.
   */
  private walk(peer: string, hops: readonly Hop[], header: string): ResolvedClient {
    const stop = hops.findLastIndex((hop) => typeof hop !== 'string');
    const addresses = hops.slice(stop + 1) as string[];
    const socket = { remoteAddress: peer };
    const normalised = {
      socket,
      connection: socket,
      headers: { 'x-forwarded-for': addresses.join(',') },
    };
    const chain = proxyaddr.all(normalised as unknown as IncomingMessage, this.trust);
    const client = chain[chain.length - 1] ?? peer;
    const reachedStop =
      stop >= 0 && chain.length === addresses.length + 1 && this.trust(client, addresses.length);
    if (reachedStop && hops[stop] === MALFORMED)
      return {
        address: client,
        problem: `${header} entry ${hops.length - stop} from the right is not an address`,
      };
    return { address: client };
  }
}

/**
 * The client address of a request, and why the forwarding headers were not followed further
 * (a bounded sentence that never quotes the header).
 *
 * @internal
 */
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

/** A node-port (RFC 7239 §6.1): a port number, or an obfuscated one. */
function validPort(port: string | undefined): boolean {
  if (port === undefined) return true;
  if (/^_[A-Za-z0-9._-]+$/.test(port)) return true;
  return /^\d{1,5}$/.test(port) && Number(port) <= 65_535;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined === undefined || joined.trim() === '' ? undefined : joined;
}

/**
 * One forwarded node (an `X-Forwarded-For` entry or a `Forwarded` `for` value, unquoted): an
 * IPv4 address with an optional port, a bracketed IPv6 address with an optional port, a bare
 * IPv6 address, or an obfuscated identifier.
 */
function parseForwardedNode(value: string): Hop {
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

/** `X-Forwarded-For`: comma-separated nodes, nearest proxy's last. */
function xffHops(header: string): Hop[] {
  return header.split(',').map(parseForwardedNode);
}

/**
 * RFC 7239 `Forwarded`: comma-separated elements of `;`-separated `name=value` pairs, values
 * tokens or quoted strings. Each element's single `for` is the hop; an element without one is
 * hidden, an element that does not parse (or has two `for`s) is malformed.
 *
 * Split at every comma and semicolon, quoted or not: a client's unterminated quote must end
 * with its own element, never swallow the elements its proxies append after it. No value a
 * proxy writes (`for`, `by`, `host`, `proto`) contains either character.
 */
function forwardedHops(header: string): Hop[] {
  return header.split(',').map((element) => elementHop(element.split(';')));
}

/** The content of a quoted string (`\` escapes one character), or undefined if it is broken. */
function unquote(value: string): string | undefined {
  if (value.length < 2 || !value.endsWith('"')) return undefined;
  let content = '';
  for (let i = 1; i < value.length - 1; i++) {
    const c = value[i] as string;
    if (c === '"') return undefined;
    if (c === '\\') {
      if (i + 1 >= value.length - 1) return undefined;
      i++;
      content += value[i] as string;
    } else content += c;
  }
  return content;
}

/** The hop of one `Forwarded` element from its raw pairs. */
function elementHop(pairs: readonly string[]): Hop {
  let hop: Hop | undefined;
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) return MALFORMED;
    const name = pair.slice(0, at).trim().toLowerCase();
    let value = pair.slice(at + 1).trim();
    if (!/^[A-Za-z]+$/.test(name)) return MALFORMED;
    if (value.startsWith('"')) {
      const content = unquote(value);
      if (content === undefined) return MALFORMED;
      value = content;
    } else if (value.includes('"') || value === '') return MALFORMED;
    if (name !== 'for') continue;
    if (hop !== undefined) return MALFORMED;
    hop = parseForwardedNode(value);
  }
  return hop ?? HIDDEN;
}
