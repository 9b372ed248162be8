import { InvalidTokenError } from '../../errors/zero-trust.error.js';
import type { ResolvedMtlsOptions } from '../../options/validate-options.js';
import type { ClientCertificateFacts } from './client-certificate.js';
import { parseSpiffeId } from './spiffe-id.js';
import { ownValue } from '../../utils/own-keys.js';

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

/**
 * Checks an X.509-SVID of the trust domain (else `ZT_SPIFFE_ID_INVALID`) and maps its path to a
 * service `client_id` through `mtls.services`, else the path itself. @internal
 */
export function serviceIdentityOf(
  facts: ClientCertificateFacts,
  options: ResolvedMtlsOptions,
): PresentedCertificate {
  const [uri, ...others] = facts.uris;
  if (facts.ca || uri === undefined || others.length > 0)
    throw new InvalidTokenError('ZT_SPIFFE_ID_INVALID');
  const id = parseSpiffeId(uri);
  if (id === undefined || id.trustDomain !== options.trustDomain)
    throw new InvalidTokenError('ZT_SPIFFE_ID_INVALID');
  const service = options.services === undefined ? id.path : ownValue(options.services, id.path);
  return {
    thumbprint: facts.thumbprint,
    source: facts.source,
    spiffeId: id.id,
    ...(service !== undefined ? { service } : {}),
  };
}
