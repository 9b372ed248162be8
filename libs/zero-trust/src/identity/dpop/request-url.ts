import {
  socketOf,
  type SocketRequestLike,
  type TrustedProxies,
} from '../../context/client-address.js';
import { normalizeHtu } from './dpop-proof.js';

/** A Host value: a DNS name or IPv4 address, or a bracketed IPv6 address, with optional port. */
const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The request fields read here (Express and Fastify). */
interface UrlRequestLike extends SocketRequestLike {
  originalUrl?: string;
  url?: string;
  raw?: SocketRequestLike['raw'] & { url?: string };
}

function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  return raw?.split(',')[0]?.trim();
}

/**
 * The URL of a request as the client addressed it, normalized for comparison with a DPoP
 * proof's `htu`: `publicUrl` plus the request path when configured; otherwise the scheme of the
 * connection and the `Host` header, replaced by `X-Forwarded-Proto` / `X-Forwarded-Host` only
 * when the peer is a trusted proxy. Undefined for a malformed Host (never guessed).
 *
 * @internal
 */
export function requestUrlOf(
  request: UrlRequestLike,
  publicUrl: string | undefined,
  proxies: TrustedProxies,
): string | undefined {
  const target = request.originalUrl ?? request.raw?.url ?? request.url;
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//'))
    return undefined;
  const path = target.split(/[?#]/)[0] ?? '/';
  if (publicUrl !== undefined) return normalizeHtu(`${publicUrl}${path}`);
  const socket: { encrypted?: boolean } | undefined = socketOf(request);
  let scheme = socket?.encrypted === true ? 'https' : 'http';
  let host = typeof request.headers.host === 'string' ? request.headers.host : undefined;
  if (proxies.isTrustedPeer(request)) {
    const proto = first(request.headers['x-forwarded-proto'])?.toLowerCase();
    if (proto !== undefined) {
      if (proto !== 'http' && proto !== 'https') return undefined;
      scheme = proto;
    }
    host = first(request.headers['x-forwarded-host']) ?? host;
  }
  if (host === undefined || !HOST.test(host)) return undefined;
  return normalizeHtu(`${scheme}://${host}${path}`);
}
