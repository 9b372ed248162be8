import { InvalidTokenError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import type {
  Principal,
  PrincipalKind,
  PrincipalToken,
  TokenClaims,
} from './principal.interface.js';

const REQUIRED = ['exp', 'iat', 'sub', 'jti'] as const;

/**
 * Claim checks after the signature verified (jsonwebtoken checked `exp` and `nbf`, and
 * {@link checkToken} the types of the time claims): `aud`, `iss`, required claims and their
 * types, `iat` not in the future, `exp - iat` within the maximum lifetime.
 *
 * @throws {InvalidTokenError}
 * @internal
 */
export function checkClaims(
  payload: Record<string, unknown>,
  options: ResolvedZeroTrustOptions,
  nowSeconds = Math.floor(Date.now() / 1000),
): TokenClaims {
  const aud = Array.isArray(payload.aud) ? (payload.aud as unknown[]) : [payload.aud];
  if (!aud.some((value) => options.audience.includes(value as string)))
    throw new InvalidTokenError('ZT_TOKEN_AUDIENCE_INVALID');
  if (payload.iss !== options.issuer) throw new InvalidTokenError('ZT_TOKEN_ISSUER_INVALID');
  for (const name of [...REQUIRED, ...options.requiredClaims]) {
    const value = payload[name];
    if (value === undefined || value === null || value === '')
      throw new InvalidTokenError('ZT_TOKEN_CLAIM_MISSING', {
        message: `The access token lacks the ${name} claim`,
      });
  }
  for (const name of ['sub', 'jti'] as const) {
    if (typeof payload[name] !== 'string')
      throw new InvalidTokenError('ZT_TOKEN_CLAIM_INVALID', {
        message: `The ${name} claim must be a string`,
      });
  }
  const claims = payload as TokenClaims;
  if (claims.iat > nowSeconds + options.clockTolerance)
    throw new InvalidTokenError('ZT_TOKEN_ISSUED_IN_FUTURE');
  if (claims.exp - claims.iat > options.maxTokenLifetime)
    throw new InvalidTokenError('ZT_TOKEN_LIFETIME_EXCEEDED');
  if (claims.exp <= claims.iat)
    throw new InvalidTokenError('ZT_TOKEN_CLAIM_INVALID', {
      message: 'The exp claim must be after iat',
    });
  return claims;
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * Maps verified claims to a {@link Principal}. A token whose `sub` is its `client_id` was
 * obtained by a client for itself (client credentials): that client must be a registered
 * service or integration, or the token is refused. Every service has its own identity: a token
 * whose `sub` names a registered service or integration but was issued to another client (or
 * to none) is refused too.
 *
 * @throws {InvalidTokenError} `ZT_CLIENT_UNKNOWN`, `ZT_CLIENT_MISMATCH`
 * @internal
 */
export function toPrincipal(claims: TokenClaims, options: ResolvedZeroTrustOptions): Principal {
  const clientId =
    typeof claims.client_id === 'string'
      ? claims.client_id
      : typeof claims.azp === 'string'
        ? claims.azp
        : undefined;
  const { services, integrations, rolesClaim } = options.principals;
  let kind: PrincipalKind = 'user';
  let roles: string[];
  let attributes: Record<string, unknown> = {};
  if (clientId !== undefined && claims.sub === clientId) {
    const registration = Object.hasOwn(services, clientId)
      ? ((kind = 'service'), services[clientId])
      : Object.hasOwn(integrations, clientId)
        ? ((kind = 'integration'), integrations[clientId])
        : undefined;
    if (registration === undefined) throw new InvalidTokenError('ZT_CLIENT_UNKNOWN');
    roles = [...(registration.roles ?? [])];
    attributes = { ...registration.attributes };
  } else {
    // A token about a registered service or integration must have been issued to that very
    // client: otherwise one client could mint itself a principal named like another's.
    if (Object.hasOwn(services, claims.sub) || Object.hasOwn(integrations, claims.sub)) {
      throw new InvalidTokenError('ZT_CLIENT_MISMATCH');
    }
    roles = stringList(claims[rolesClaim]);
  }
  // Optional fields are assigned when present rather than spread from temporary objects: this
  // runs for every token not seen before.
  const token: Mutable<PrincipalToken> = { jti: claims.jti, iat: claims.iat, exp: claims.exp };
  if (typeof claims.acr === 'string') token.acr = claims.acr;
  if (Array.isArray(claims.amr)) token.amr = stringList(claims.amr);
  if (typeof claims.auth_time === 'number') token.authTime = claims.auth_time;
  if (typeof claims.cnf === 'object' && claims.cnf !== null)
    token.cnf = claims.cnf as Record<string, unknown>;
  const device = deviceClaim(claims, options.risk.device?.claim);
  if (device !== undefined) token.device = device;
  const scopes = stringList(claims.scope);
  if (claims.scp !== undefined) scopes.push(...stringList(claims.scp));
  const principal: Mutable<Principal> = {
    kind,
    id: kind === 'user' ? claims.sub : (clientId as string),
    subject: claims.sub,
    issuer: claims.iss,
    roles,
    scopes,
    token,
    attributes,
  };
  if (clientId !== undefined) principal.clientId = clientId;
  if (options.principals.attributes) {
    return freeze({
      ...principal,
      attributes: { ...attributes, ...options.principals.attributes(claims, principal) },
    });
  }
  return freeze(principal);
}

/** Principals are shared by every request carrying the same token: nobody may change one. */
function freeze(principal: Principal): Principal {
  Object.freeze(principal.roles);
  Object.freeze(principal.scopes);
  if (principal.token.amr) Object.freeze(principal.token.amr);
  Object.freeze(principal.token);
  Object.freeze(principal.attributes);
  return Object.freeze(principal);
}

/** The device claim named by the risk options, when the token carries one as a string. */
function deviceClaim(claims: TokenClaims, name: string | undefined): string | undefined {
  const value = name === undefined ? undefined : claims[name];
  return typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
