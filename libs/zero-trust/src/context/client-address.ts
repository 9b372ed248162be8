import { BlockList, isIP } from 'node:net';
import { AddressSet } from '../utils/address-set.js';
import { LruCache } from '../utils/lru-cache.js';

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
  // Already normal (a dotted IPv4 address, the common case): nothing to strip or lower.
  if (IPV4.test(address)) return address;
  let normal = normalized.get(address);
  if (normal === undefined) {
    const unzoned = address.split('%')[0] ?? address;
    const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(unzoned);
    normal = mapped?.[1] ?? unzoned.toLowerCase();
    normalized.set(address, normal);
  }
  return normal;
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** Normal forms of recent IPv6 addresses (a client's address comes with each of its requests). */
const normalized = new LruCache<string, string>(10_000, 10 * 60_000);

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
 * Parses one trusted-proxy entry: an address, a CIDR block, or the keyword `loopback`.
 * Returns a problem message, or undefined when the entry is valid.
 *
 * @internal
 */
export function trustedProxyProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'string' || entry.length === 0) return 'must be a non-empty string';
  if (entry === 'loopback') return undefined;
  const [address, prefix, extra] = entry.split('/');
  if (extra !== undefined || address === undefined) return 'must be an address or a CIDR block';
  const family = isIP(address);
  if (family === 0) return 'must be an IPv4 or IPv6 address or CIDR block';
  if (prefix !== undefined) {
    const bits = Number(prefix);
    if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128))
      return 'has an invalid prefix length';
  }
  return undefined;
}

/**
 * The set of proxies whose forwarding headers (`X-Forwarded-For`, `X-Forwarded-Client-Cert`,
 * `X-Request-Id`) are believed. A header from any other peer is ignored: it could be forged.
 *
 * @publicApi
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly trusted = new AddressSet(this.list);
  private readonly empty: boolean;

  /**
   * @param entries - addresses, CIDR blocks, or `loopback` (127.0.0.0/8 and ::1); validated by
   * the module options beforehand
   */
  constructor(entries: readonly string[]) {
    this.empty = entries.length === 0;
    for (const entry of entries) {
      if (entry === 'loopback') {
        this.list.addSubnet('127.0.0.0', 8, 'ipv4');
        this.list.addAddress('::1', 'ipv6');
        continue;
      }
      const [address = '', prefix] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(normalizeAddress(address), type);
      else this.list.addSubnet(normalizeAddress(address), Number(prefix), type);
    }
  }

  /** Whether this peer address is a trusted proxy. */
  isTrusted(peer: string | undefined): boolean {
    if (this.empty || peer === undefined) return false;
    return this.trusted.has(normalizeAddress(peer));
  }

  /** Whether the request came straight from a trusted proxy. */
  isTrustedPeer(request: SocketRequestLike): boolean {
    return this.isTrusted(peerAddressOf(request));
  }

  /**
   * The client's address. `X-Forwarded-For` is read right to left, skipping trusted proxies, only
   * when the peer itself is trusted; otherwise the peer address is the client. A malformed entry
   * stops the walk at the last trusted hop.
   */
  clientAddressOf(request: SocketRequestLike): string | undefined {
    const peer = peerAddressOf(request);
    if (!this.isTrusted(peer)) return peer;
    const header = request.headers['x-forwarded-for'];
    const raw = Array.isArray(header) ? header.join(',') : header;
    if (raw === undefined || raw.length === 0) return peer;
    const hops = raw.split(',').map((hop) => normalizeAddress(hop.trim()));
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] ?? '';
      if (isIP(hop) === 0) break;
      client = hop;
      if (!this.isTrusted(hop)) break;
    }
    return client;
  }
}
