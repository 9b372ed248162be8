import { createHash, X509Certificate } from 'node:crypto';
import type { SocketRequestLike, TrustedProxies } from '../../context/client-address.js';
import { InvalidTokenError } from '../../errors/zero-trust.error.js';
import type { ResolvedMtlsOptions } from '../../options/validate-options.js';
import type { CertificateSource } from '../../options/zero-trust-options.interface.js';
import { ownValue } from '../../utils/own-keys.js';
import { parseSpiffeId } from './spiffe-id.js';
import { malformedXfcc, parseXfcc, type XfccElement } from './xfcc.js';

/** The client certificate a request presented, as put on the request context. @publicApi */
export interface PresentedCertificate {
  /** RFC 8705 thumbprint (`x5t#S256`): base64url SHA-256 of the DER certificate. */
  readonly thumbprint: string;
  /** Where it was read: the TLS connection or a trusted proxy's XFCC header. */
  readonly source: 'socket' | 'xfcc';
  /** Its SPIFFE ID, when `mtls` is configured (then always present and valid). */
  readonly spiffeId?: string;
  /** The `client_id` of the service the SPIFFE ID maps to, if any. */
  readonly service?: string;
}

/** What the library read of a client certificate, before any SPIFFE check. @internal */
export interface ClientCertificateFacts {
  readonly thumbprint: string;
  readonly source: 'socket' | 'xfcc';
  /** The URI SANs of the certificate. */
  readonly uris: readonly string[];
  /** Whether the certificate is a CA certificate (never a valid workload certificate). */
  readonly ca: boolean;
}

/** The socket shape read here (a `tls.TLSSocket` on an HTTPS server). */
interface TlsSocketLike {
  remoteAddress?: string | undefined;
  authorized?: boolean;
  getPeerX509Certificate?: () => X509Certificate | undefined;
}

const XFCC = 'x-forwarded-client-cert';
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const BY_SOCKET = new WeakMap<object, ClientCertificateFacts | 'untrusted' | 'none'>();

/** One entry of Node's SAN rendering, `TYPE:value` (maybe JSON-quoted); sticky, back to back. */
const SAN_ENTRY = /(?:^|, )([^:,]+):("(?:[^"\\]|\\.)*"|[^",]*)/gy;

/** The URI SANs of Node's rendering (`DNS:a, URI:spiffe://x/y, URI:"quoted, value"`). @internal */
export function urisOfSubjectAltName(san: string | undefined): string[] {
  const uris: string[] = [];
  for (const [, type, value = ''] of (san ?? '').matchAll(SAN_ENTRY)) {
    if (type !== 'URI') continue;
    try {
      uris.push(value.startsWith('"') ? (JSON.parse(value) as string) : value);
    } catch {
      uris.push('');
    }
  }
  return uris;
}

function factsOf(certificate: X509Certificate, source: 'socket' | 'xfcc'): ClientCertificateFacts {
  return {
    thumbprint: createHash('sha256').update(certificate.raw).digest('base64url'),
    uris: urisOfSubjectAltName(certificate.subjectAltName),
    ca: certificate.ca,
    source,
  };
}

/** The TLS connection's certificate, read once; `ZT_CERTIFICATE_UNTRUSTED` if unauthorized. */
function socketCertificate(request: SocketRequestLike): ClientCertificateFacts | undefined {
  // Express's `socket`, Fastify's `raw.socket`.
  const socket: TlsSocketLike | undefined = request.socket ?? request.raw?.socket;
  if (socket === undefined || typeof socket.getPeerX509Certificate !== 'function') return undefined;
  let facts = BY_SOCKET.get(socket);
  if (facts === undefined) {
    const certificate = socket.getPeerX509Certificate();
    facts =
      certificate === undefined
        ? 'none'
        : socket.authorized !== true
          ? 'untrusted'
          : factsOf(certificate, 'socket');
    BY_SOCKET.set(socket, facts);
  }
  if (facts === 'none') return undefined;
  if (facts === 'untrusted') throw new InvalidTokenError('ZT_CERTIFICATE_UNTRUSTED');
  return facts;
}

/** Facts of one XFCC element: its `Cert` checked against `Hash` and `URI`, or those. @internal */
export function factsOfXfccElement(element: XfccElement): ClientCertificateFacts {
  const single = (key: string): string | undefined => {
    const [value, ...more] = element.get(key) ?? [];
    if (more.length > 0) throw malformedXfcc(`repeated ${key}`);
    return value;
  };
  const hash = single('hash')?.toLowerCase();
  const cert = single('cert');
  const uris = element.get('uri') ?? [];
  if (hash !== undefined && !HEX_SHA256.test(hash)) throw malformedXfcc('bad Hash');
  if (cert === undefined) {
    if (hash === undefined) throw malformedXfcc('neither Cert nor Hash');
    const thumbprint = Buffer.from(hash, 'hex').toString('base64url');
    return { thumbprint, uris: [...uris], ca: false, source: 'xfcc' };
  }
  let facts: ClientCertificateFacts;
  try {
    facts = factsOf(new X509Certificate(decodeURIComponent(cert)), 'xfcc');
  } catch {
    throw malformedXfcc('bad Cert');
  }
  if (hash !== undefined && Buffer.from(facts.thumbprint, 'base64url').toString('hex') !== hash)
    throw malformedXfcc('Hash does not match Cert');
  if (uris.some((uri) => !facts.uris.includes(uri))) throw malformedXfcc('URI does not match Cert');
  return facts;
}

/**
 * The client certificate of a request, read from `source`. An XFCC header from an untrusted peer
 * is refused whatever the source; of a trusted proxy's, the last element is used. @internal
 */
export function presentedCertificate(
  request: SocketRequestLike,
  source: CertificateSource,
  proxies: TrustedProxies,
): ClientCertificateFacts | undefined {
  const header = request.headers[XFCC];
  const trusted = header !== undefined && proxies.isTrustedPeer(request);
  if (header !== undefined && !trusted) throw new InvalidTokenError('ZT_XFCC_UNTRUSTED');
  // With `both`, a trusted proxy's header wins: the socket then holds the proxy's own certificate.
  if (source === 'socket' || (source === 'both' && !trusted)) return socketCertificate(request);
  if (header === undefined) return undefined;
  const elements = parseXfcc(Array.isArray(header) ? header.join(',') : header);
  return factsOfXfccElement(elements.at(-1) as XfccElement);
}

/**
 * Checks an X.509-SVID of the trust domain (else `ZT_SPIFFE_ID_INVALID`) and maps its path to a
 * service `client_id` through `mtls.services`, else the path itself. @internal
 */
export function serviceIdentityOf(
  facts: ClientCertificateFacts,
  options: ResolvedMtlsOptions,
): PresentedCertificate {
  const [uri, ...others] = facts.uris;
  const id = uri === undefined ? undefined : parseSpiffeId(uri);
  if (facts.ca || others.length > 0 || id?.trustDomain !== options.trustDomain)
    throw new InvalidTokenError('ZT_SPIFFE_ID_INVALID');
  const service = options.services === undefined ? id.path : ownValue(options.services, id.path);
  return {
    thumbprint: facts.thumbprint,
    source: facts.source,
    spiffeId: id.id,
    ...(service !== undefined && { service }),
  };
}
