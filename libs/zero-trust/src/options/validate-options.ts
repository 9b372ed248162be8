import { TrustedProxies, trustedProxyProblem } from '../context/client-address.js';
import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import { validateDpop, type ResolvedDpopOptions } from './validate-dpop.js';
import { validateMtls, type ResolvedMtlsOptions } from './validate-mtls.js';

import { validateStore, type ResolvedStoreOptions } from './validate-store.js';
import type { AbilityDefinitions } from '../authorization/ability.types.js';
import {
  validateAudit,
  validateMonitoring,
  type ResolvedAuditOptions,
  type ResolvedMonitoringOptions,
} from './validate-monitoring.js';
import { validateRisk, type ResolvedRiskOptions } from './validate-risk.js';
import { validateFailureLimit, type ResolvedFailureLimit } from './validate-failure-limit.js';
import type {
  AsymmetricAlgorithm,
  ClientRegistration,
  PrincipalOptions,
  ZeroTrustMode,
  ZeroTrustModuleOptions,
} from './zero-trust-options.interface.js';
import { ownRecord } from '../utils/own-keys.js';

/**
 * Options with every default applied, as the library's services read them.
 *
 * @internal
 */
export interface ResolvedZeroTrustOptions {
  issuer: string;
  jwksUri: string | undefined;
  audience: string[];
  algorithms: AsymmetricAlgorithm[];
  tokenTypes: string[];
  maxTokenLifetime: number;
  unsafeAllowLongLivedTokens: boolean;
  clockTolerance: number;
  maxTokenSize: number;
  requiredClaims: string[];
  jwks: { cooldown: number; maxAge: number; timeout: number };
  principals: Required<Omit<PrincipalOptions, 'attributes'>> & Pick<PrincipalOptions, 'attributes'>;
  abilities: AbilityDefinitions;
  policyVersion: string;
  abilityCache: { max: number; ttl: number };
  tokenCache: { max: number };
  mode: ZeroTrustMode;
  strictRouteAudit: boolean;
  store: ResolvedStoreOptions;
  audit: ResolvedAuditOptions;
  monitoring: ResolvedMonitoringOptions;
  trustedProxies: TrustedProxies;
  propagateRequestId: boolean | 'auto';
  mtls?: ResolvedMtlsOptions;
  dpop?: ResolvedDpopOptions;
  risk: ResolvedRiskOptions;
  authenticationFailures?: ResolvedFailureLimit;
}

/**
 * Longest token lifetime (`exp - iat`, seconds) accepted without `unsafeAllowLongLivedTokens`.
 *
 * @internal
 */
export const MAX_SAFE_TOKEN_LIFETIME = 3600;

/** The algorithms accepted unless configured otherwise. */
export const DEFAULT_ALGORITHMS: readonly AsymmetricAlgorithm[] = [
  'RS256',
  'PS256',
  'ES256',
  'RS384',
  'PS384',
  'ES384',
  'RS512',
  'PS512',
  'ES512',
];

const OPTION_KEYS = new Set<string>([
  'issuer',
  'jwksUri',
  'audience',
  'algorithms',
  'tokenTypes',
  'maxTokenLifetime',
  'unsafeAllowLongLivedTokens',
  'clockTolerance',
  'maxTokenSize',
  'requiredClaims',
  'jwks',
  'principals',
  'abilities',
  'policyVersion',
  'abilityCache',
  'tokenCache',
  'mode',
  'strictRouteAudit',
  'store',
  'audit',
  'monitoring',
  'trustedProxies',
  'propagateRequestId',
  'mtls',
  'dpop',
  'risk',
  'authenticationFailures',
]);
const PRINCIPAL_KINDS = new Set(['user', 'service', 'integration']);
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Whether a URL may be fetched for keys: HTTPS, or HTTP on a loopback host only.
 *
 * @internal
 */
export function isAcceptableKeyUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password || url.hash) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * Validates module options and applies defaults. Every problem is collected and thrown in one
 * {@link ZeroTrustConfigurationError}; values are named, never echoed (they may be secrets).
 *
 * @throws {ZeroTrustConfigurationError} `ZT_OPTIONS_INVALID` listing each problem
 * @internal
 */
export function validateOptions(input: unknown): ResolvedZeroTrustOptions {
  const problems: string[] = [];
  const o: Partial<ZeroTrustModuleOptions> & Record<string, unknown> = isObject(input) ? input : {};
  if (!isObject(input)) problems.push('options must be an object');

  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key)) problems.push(`unknown option "${key}"`);
  }

  const positive = (name: string, value: unknown, fallback: number, allowZero = false): number => {
    if (value === undefined) return fallback;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < 0 ||
      (!allowZero && value === 0)
    ) {
      problems.push(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`);
      return fallback;
    }
    return value;
  };

  // issuer and keys
  if (typeof o.issuer !== 'string' || o.issuer.length === 0) {
    problems.push('issuer is required (the exact "iss" value of your tokens)');
  } else if (!isAcceptableKeyUrl(o.issuer)) {
    problems.push(
      'issuer must be an https URL (http is allowed only on loopback hosts) without credentials or fragment',
    );
  }
  if (
    o.jwksUri !== undefined &&
    (typeof o.jwksUri !== 'string' || !isAcceptableKeyUrl(o.jwksUri))
  ) {
    problems.push('jwksUri must be an https URL (http is allowed only on loopback hosts)');
  }

  // audience
  let audience: string[] = [];
  if (typeof o.audience === 'string' && o.audience.length > 0) audience = [o.audience];
  else if (
    isStringArray(o.audience) &&
    o.audience.length > 0 &&
    o.audience.every((a) => a.length > 0)
  )
    audience = o.audience;
  else
    problems.push(
      "audience is required: this resource server's identifier (a non-empty string or array of strings)",
    );

  // algorithms
  let algorithms = [...DEFAULT_ALGORITHMS];
  if (o.algorithms !== undefined) {
    if (!isStringArray(o.algorithms) || o.algorithms.length === 0) {
      problems.push('algorithms must be a non-empty array');
    } else {
      const bad = o.algorithms.filter((a) => !DEFAULT_ALGORITHMS.includes(a));
      if (bad.length > 0) {
        problems.push(
          `algorithms may only contain asymmetric algorithms (${DEFAULT_ALGORITHMS.join(', ')}); refused: ${bad
            .map((a) => JSON.stringify(a))
            .join(', ')}`,
        );
      } else algorithms = [...new Set(o.algorithms)];
    }
  }

  let tokenTypes = ['at+jwt'];
  if (o.tokenTypes !== undefined) {
    if (!isStringArray(o.tokenTypes) || o.tokenTypes.length === 0)
      problems.push('tokenTypes must be a non-empty array of strings');
    else tokenTypes = o.tokenTypes.map(normalizeType);
  }

  const maxTokenLifetime = positive('maxTokenLifetime', o.maxTokenLifetime, 900);
  let unsafeAllowLongLivedTokens = false;
  if (o.unsafeAllowLongLivedTokens !== undefined) {
    if (typeof o.unsafeAllowLongLivedTokens !== 'boolean')
      problems.push('unsafeAllowLongLivedTokens must be a boolean');
    else unsafeAllowLongLivedTokens = o.unsafeAllowLongLivedTokens;
  }
  // A stolen bearer token is usable until it expires: past an hour, only on purpose.
  if (maxTokenLifetime > MAX_SAFE_TOKEN_LIFETIME && !unsafeAllowLongLivedTokens)
    problems.push(
      `maxTokenLifetime must not exceed ${MAX_SAFE_TOKEN_LIFETIME} seconds unless unsafeAllowLongLivedTokens is true`,
    );
  const clockTolerance = positive('clockTolerance', o.clockTolerance, 5, true);
  if (clockTolerance > 300) problems.push('clockTolerance must not exceed 300 seconds');
  const maxTokenSize = positive('maxTokenSize', o.maxTokenSize, 8192);

  let requiredClaims: string[] = [];
  if (o.requiredClaims !== undefined) {
    if (!isStringArray(o.requiredClaims))
      problems.push('requiredClaims must be an array of claim names');
    else requiredClaims = o.requiredClaims;
  }

  const jwks = { cooldown: 30, maxAge: 600, timeout: 5 };
  if (o.jwks !== undefined) {
    if (!isObject(o.jwks)) problems.push('jwks must be an object');
    else {
      jwks.cooldown = positive('jwks.cooldown', o.jwks.cooldown, 30, true);
      jwks.maxAge = positive('jwks.maxAge', o.jwks.maxAge, 600);
      jwks.timeout = positive('jwks.timeout', o.jwks.timeout, 5);
    }
  }

  // principals
  const principals: ResolvedZeroTrustOptions['principals'] = {
    services: {},
    integrations: {},
    rolesClaim: 'roles',
  };
  if (o.principals !== undefined) {
    if (!isObject(o.principals)) problems.push('principals must be an object');
    else {
      const p = o.principals;
      for (const group of ['services', 'integrations'] as const) {
        const value = p[group];
        if (value === undefined) continue;
        if (!isObject(value)) {
          problems.push(`principals.${group} must be an object keyed by client_id`);
          continue;
        }
        for (const [clientId, reg] of Object.entries(value)) {
          if (!isObject(reg)) problems.push(`principals.${group}["${clientId}"] must be an object`);
          else if (reg.roles !== undefined && !isStringArray(reg.roles))
            problems.push(`principals.${group}["${clientId}"].roles must be an array of strings`);
        }
        // Null-prototype: a client named `constructor` or `__proto__` is an ordinary key.
        principals[group] = ownRecord(value as Record<string, ClientRegistration>);
      }
      for (const clientId of Object.keys(principals.services)) {
        if (Object.hasOwn(principals.integrations, clientId))
          problems.push(
            `client "${clientId}" is registered both as a service and as an integration`,
          );
      }
      if (p.rolesClaim !== undefined) {
        if (typeof p.rolesClaim !== 'string' || p.rolesClaim.length === 0)
          problems.push('principals.rolesClaim must be a claim name');
        else principals.rolesClaim = p.rolesClaim;
      }
      if (p.attributes !== undefined) {
        if (typeof p.attributes !== 'function')
          problems.push('principals.attributes must be a function');
        else principals.attributes = p.attributes as PrincipalOptions['attributes'];
      }
    }
  }

  // abilities
  const abilities: AbilityDefinitions = {};
  if (o.abilities !== undefined) {
    if (!isObject(o.abilities))
      problems.push('abilities must be an object keyed by principal kind');
    else {
      for (const [kind, def] of Object.entries(o.abilities)) {
        if (!PRINCIPAL_KINDS.has(kind))
          problems.push(
            `abilities.${kind}: unknown principal kind (use user, service or integration)`,
          );
        else if (typeof def !== 'function')
          problems.push(`abilities.${kind} must be a function (principal, env, builder) => void`);
        else abilities[kind as keyof AbilityDefinitions] = def as AbilityDefinitions['user'];
      }
    }
  }

  let policyVersion = '1';
  if (o.policyVersion !== undefined) {
    if (typeof o.policyVersion !== 'string' || o.policyVersion.length === 0)
      problems.push('policyVersion must be a non-empty string');
    else policyVersion = o.policyVersion;
  }

  const abilityCache = { max: 10_000, ttl: 300 };
  if (o.abilityCache !== undefined) {
    if (!isObject(o.abilityCache)) problems.push('abilityCache must be an object');
    else {
      abilityCache.max = Math.floor(positive('abilityCache.max', o.abilityCache.max, 10_000, true));
      abilityCache.ttl = positive('abilityCache.ttl', o.abilityCache.ttl, 300, true);
    }
  }

  const tokenCache = { max: 10_000 };
  if (o.tokenCache !== undefined) {
    if (!isObject(o.tokenCache)) problems.push('tokenCache must be an object');
    else tokenCache.max = Math.floor(positive('tokenCache.max', o.tokenCache.max, 10_000, true));
  }

  let mode: ZeroTrustMode = 'enforce';
  if (o.mode !== undefined) {
    if (o.mode !== 'enforce' && o.mode !== 'report-only')
      problems.push('mode must be "enforce" or "report-only"');
    else mode = o.mode;
  }

  let strictRouteAudit = true;
  if (o.strictRouteAudit !== undefined) {
    if (typeof o.strictRouteAudit !== 'boolean')
      problems.push('strictRouteAudit must be a boolean');
    else strictRouteAudit = o.strictRouteAudit;
  }

  const store = validateStore(o.store, problems);

  const audit = validateAudit(o.audit, problems);
  const monitoring = validateMonitoring(o.monitoring, problems);

  let trustedProxies = new TrustedProxies([]);
  if (o.trustedProxies !== undefined) {
    if (!Array.isArray(o.trustedProxies))
      problems.push('trustedProxies must be an array of addresses, CIDR blocks or "loopback"');
    else {
      const entries: unknown[] = o.trustedProxies;
      entries.forEach((entry, i) => {
        const problem = trustedProxyProblem(entry);
        if (problem !== undefined) problems.push(`trustedProxies[${i}] ${problem}`);
      });
      if (entries.every((e) => trustedProxyProblem(e) === undefined))
        trustedProxies = new TrustedProxies(entries as string[]);
    }
  }

  const propagateRequestId = o.propagateRequestId ?? 'auto';
  if (propagateRequestId !== true && propagateRequestId !== false && propagateRequestId !== 'auto')
    problems.push('propagateRequestId must be true, false or "auto"');

  const mtls = validateMtls(o.mtls, problems);
  const dpop = validateDpop(o.dpop, problems);
  const risk = validateRisk(o.risk, problems);
  const authenticationFailures = validateFailureLimit(o.authenticationFailures, problems);

  if (problems.length > 0) throw new ZeroTrustConfigurationError('ZT_OPTIONS_INVALID', problems);

  return {
    issuer: o.issuer as string,
    jwksUri: o.jwksUri,
    audience,
    algorithms,
    tokenTypes,
    maxTokenLifetime,
    unsafeAllowLongLivedTokens,
    clockTolerance,
    maxTokenSize,
    requiredClaims,
    jwks,
    principals,
    abilities,
    policyVersion,
    abilityCache,
    tokenCache,
    mode,
    strictRouteAudit,
    store,
    audit,
    monitoring,
    trustedProxies,
    propagateRequestId,
    ...(mtls !== undefined ? { mtls } : {}),
    ...(dpop !== undefined ? { dpop } : {}),
    risk,
    ...(authenticationFailures !== undefined ? { authenticationFailures } : {}),
  };
}

/**
 * Normalizes a `typ` value as RFC 7515 §4.1.9 allows: case-insensitive, `application/` optional.
 *
 * @internal
 */
export function normalizeType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}
