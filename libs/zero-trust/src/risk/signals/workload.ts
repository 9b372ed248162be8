import type { ZeroTrustRequestContext } from '../../context/request-context.js';
import type { Principal } from '../../identity/principal.interface.js';

/**
 * Whether a request comes from a service or an integration that proved, on this very request,
 * that it holds its key: a client certificate of that service (mTLS), a certificate-bound token
 * (`cnf["x5t#S256"]`) with that certificate, or a DPoP-bound token (`cnf.jkt`) with a valid
 * proof. The authentication guard checked those bindings before any signal runs; this only
 * reads what it established.
 *
 * Such a workload is judged on what applies to software (the routes it calls, its rate, the
 * failures it causes), never on where it calls from or its device: its address moves with
 * deployments and fail-overs, and it cannot step up, so a refusal on those grounds would last.
 *
 * @internal
 */
export function isProvenWorkload(
  principal: Principal | undefined,
  context: Pick<ZeroTrustRequestContext, 'certificate' | 'dpop'>,
): boolean {
  if (principal === undefined || principal.kind === 'user') return false;
  const certificate = context.certificate;
  if (certificate?.service !== undefined && certificate.service === principal.id) return true;
  const cnf = principal.token.cnf;
  const x5t = cnf?.['x5t#S256'];
  if (typeof x5t === 'string' && certificate !== undefined && certificate.thumbprint === x5t)
    return true;
  const jkt = cnf?.jkt;
  return typeof jkt === 'string' && context.dpop !== undefined && context.dpop.jkt === jkt;
}
