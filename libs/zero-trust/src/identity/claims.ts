import { InvalidTokenError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ownValue } from '../utils/own-keys.js';
import type {
  Principal,
  PrincipalKind,
  PrincipalToken,
  TokenClaims,
} from './principal.interface.js';

const refused = (code: 'ZT_TOKEN_CLAIM_MISSING' | 'ZT_TOKEN_CLAIM_INVALID', message: string) =>
  new InvalidTokenError(code, { message });

/** Claim checks after the signature: `aud`, `iss`, required claims, `iat`, lifetime. @internal */
export function checkClaims(
  payload: Record<string, unknown>,
  options: ResolvedZeroTrustOptions,
  nowSeconds = Math.floor(Date.now() / 1000),
): TokenClaims {
  const aud = Array.isArray(payload.aud) ? (payload.aud as unknown[]) : [payload.aud];
  if (!aud.some((value) => options.audience.includes(value as string)))
    throw new InvalidTokenError('ZT_TOKEN_AUDIENCE_INVALID');
  if (payload.iss !== options.issuer) throw new InvalidTokenError('ZT_TOKEN_ISSUER_INVALID');
  for (const name of ['exp', 'iat', 'sub', 'jti', ...options.requiredClaims]) {
    const value = payload[name];
    if (value === undefined || value === null || value === '')
      throw refused('ZT_TOKEN_CLAIM_MISSING', `The access token lacks the ${name} claim`);
  }
  for (const name of ['sub', 'jti'] as const)
    if (typeof payload[name] !== 'string')
      throw refused('ZT_TOKEN_CLAIM_INVALID', `The ${name} claim must be a string`);
  const claims = payload as TokenClaims;
  if (claims.iat > nowSeconds + options.clockTolerance)
    throw new InvalidTokenError('ZT_TOKEN_ISSUED_IN_FUTURE');
  if (claims.exp - claims.iat > options.maxTokenLifetime)
    throw new InvalidTokenError('ZT_TOKEN_LIFETIME_EXCEEDED');
  if (claims.exp <= claims.iat)
    throw refused('ZT_TOKEN_CLAIM_INVALID', 'The exp claim must be after iat');
  return claims;
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * Maps verified claims to a frozen {@link Principal}. A client-credentials token (`sub` is its
 * `client_id`) must come from a registered service or integration (`ZT_CLIENT_UNKNOWN`); a token
 * whose `sub` names one but was issued to another client is refused (`ZT_CLIENT_MISMATCH`).
 * @internal
 */
export function toPrincipal(claims: TokenClaims, options: ResolvedZeroTrustOptions): Principal {
  const clientId = [claims.client_id, claims.azp].find((id) => typeof id === 'string');
  const { services, integrations, rolesClaim } = options.principals;
  let kind: PrincipalKind = 'user';
  let roles: string[];
  let attributes: Record<string, unknown> = {};
  if (clientId !== undefined && claims.sub === clientId) {
    const registration = ownValue(services, clientId) ?? ownValue(integrations, clientId);
    if (registration === undefined) throw new InvalidTokenError('ZT_CLIENT_UNKNOWN');
    kind = Object.hasOwn(services, clientId) ? 'service' : 'integration';
    roles = [...(registration.roles ?? [])];
    attributes = { ...registration.attributes };
  } else {
    // Otherwise one client could mint itself a principal named like another's.
    if (Object.hasOwn(services, claims.sub) || Object.hasOwn(integrations, claims.sub))
      throw new InvalidTokenError('ZT_CLIENT_MISMATCH');
    roles = stringList(claims[rolesClaim]);
  }
  const claim = (name: string | undefined): string | undefined => {
    const value = name === undefined ? undefined : claims[name];
    return typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : undefined;
  };
  const [device, sid, grant] = [
    options.risk.device?.claim,
    'sid',
    options.principals.grantClaim,
  ].map(claim);
  const token: PrincipalToken = {
    jti: claims.jti,
    iat: claims.iat,
    exp: claims.exp,
    ...(typeof claims.acr === 'string' && { acr: claims.acr }),
    ...(Array.isArray(claims.amr) && { amr: Object.freeze(stringList(claims.amr)) }),
    ...(typeof claims.auth_time === 'number' && { authTime: claims.auth_time }),
    ...(typeof claims.cnf === 'object' &&
      claims.cnf !== null && { cnf: claims.cnf as Record<string, unknown> }),
    ...(device !== undefined && { device }),
    ...(sid !== undefined && { sid }),
    ...(grant !== undefined && { grant }),
  };
  const principal: Principal = {
    kind,
    id: kind === 'user' ? claims.sub : (clientId as string),
    subject: claims.sub,
    ...(clientId !== undefined && { clientId }),
    issuer: claims.iss,
    roles: Object.freeze(roles),
    scopes: Object.freeze([...stringList(claims.scope), ...stringList(claims.scp)]),
    token: Object.freeze(token),
    attributes,
  };
  const mapped = options.principals.attributes?.(claims, principal);
  // Principals are shared by every request carrying the same token: nobody may change one.
  return Object.freeze({
    ...principal,
    attributes: Object.freeze(mapped === undefined ? attributes : { ...attributes, ...mapped }),
  });
}
