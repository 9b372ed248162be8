import type { ZeroTrustRequestContext } from '../../context/request-context.js';
import type { Principal } from '../../identity/principal.interface.js';

/**
 * Whether a service or integration proved on this request that it holds its key (as the
 * authentication guard established): a client certificate naming it (mTLS), or a token bound
 * to the certificate presented (`cnf["x5t#S256"]`) or to a valid DPoP proof's key (`cnf.jkt`).
 * Such a workload is never judged on where it calls from: its address moves with deployments
 * and it cannot step up, so such a refusal would last.
 *
 * @internal
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
