import type { ZeroTrustRequestContext } from '../../context/request-context.js';
import type { Principal } from '../../identity/principal.interface.js';

/**
 * Whether a service proved its key on this request (mTLS certificate naming it, or a token bound
 * to the certificate or DPoP key presented): its address moves with deployments. @internal
 */
export function isProvenWorkload(
  principal: Principal | undefined,
  { certificate, dpop }: Pick<ZeroTrustRequestContext, 'certificate' | 'dpop'>,
): boolean {
  if (principal === undefined || principal.kind === 'user') return false;
  const { 'x5t#S256': x5t, jkt } = principal.token.cnf ?? {};
  return (
    (certificate?.service !== undefined && certificate.service === principal.id) ||
    (typeof x5t === 'string' && certificate?.thumbprint === x5t) ||
    (typeof jkt === 'string' && dpop?.jkt === jkt)
  );
}
