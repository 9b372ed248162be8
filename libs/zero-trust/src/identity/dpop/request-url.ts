import { normalizeHtu } from './dpop-proof.js';

/** The request fields read here (Express and Fastify). */
interface UrlRequestLike {
  originalUrl?: string;
  url?: string;
  // socket: shared with the request types of the guards (a type of optional members only).
  raw?: { url?: unknown; socket?: unknown } | undefined;
}

/**
 * The URLs a DPoP proof's `htu` may name for this request: each configured public URL plus the
 * request path, normalized for comparison (query and fragment dropped). Never built from the
 * `Host` or `X-Forwarded-*` headers: those are the client's word, and a proof made for one host
 * must not be accepted by an instance that answers any Host. Empty for a request target that is
 * not an origin-form path.
 *
 * @internal
 */
export function expectedHtus(request: UrlRequestLike, publicUrls: readonly string[]): string[] {
  // Express's originalUrl survives mounting; Fastify's raw.url is the target as received.
  const target = request.originalUrl ?? request.raw?.url ?? request.url;
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//')) return [];
  const path = target.split(/[?#]/)[0] ?? '/';
  const htus: string[] = [];
  for (const base of publicUrls) {
    const htu = normalizeHtu(`${base}${path}`);
    if (htu !== undefined) htus.push(htu);
  }
  return htus;
}
