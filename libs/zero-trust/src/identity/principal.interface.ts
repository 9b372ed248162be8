/** Who is calling: a person, one of your own services, or an external integration. @publicApi */
export type PrincipalKind = 'user' | 'service' | 'integration';

/** Facts about the access token a principal presented. @publicApi */
export interface PrincipalToken {
  /** Token identifier (`jti`). */
  readonly jti: string;
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expires at, seconds since the epoch. */
  readonly exp: number;
  /** Authentication context class (`acr`), if the issuer set one. */
  readonly acr?: string;
  /** Authentication methods (`amr`), if the issuer set them. */
  readonly amr?: readonly string[];
  /** Time of the user's authentication (`auth_time`), seconds since the epoch. */
  readonly authTime?: number;
  /** Confirmation claim (`cnf`) binding the token to a key or certificate (RFC 7800). */
  readonly cnf?: Readonly<Record<string, unknown>>;
  /** Device the token was issued to, from the claim named by `risk.device.claim`, if any. */
  readonly device?: string;
  /** The identity provider's session (`sid`), if the token names it. */
  readonly sid?: string;
  /** The grant at the issuer, from the claim named by `principals.grantClaim`, if any. */
  readonly grant?: string;
}

/** A verified caller, built from a token that passed every check. @publicApi */
export interface Principal {
  /** What kind of caller this is. */
  readonly kind: PrincipalKind;
  /** Stable identifier: the user's `sub`, or the service's / integration's client id. */
  readonly id: string;
  /** The token's `sub`. */
  readonly subject: string;
  /** The OAuth client that obtained the token (`client_id`), if present. */
  readonly clientId?: string;
  /** The issuer (`iss`) that vouched for this principal. */
  readonly issuer: string;
  /** Roles, from the token (users) or from the registration (services, integrations). */
  readonly roles: readonly string[];
  /** OAuth scopes the token was granted. */
  readonly scopes: readonly string[];
  /** Facts about the presented token. */
  readonly token: PrincipalToken;
  /** Application-defined attributes (tenant, department, ...). */
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** Verified claims of an access token, as handed to claim mappers. @publicApi */
export type TokenClaims = Readonly<Record<string, unknown>> & {
  readonly iss: string;
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
};
