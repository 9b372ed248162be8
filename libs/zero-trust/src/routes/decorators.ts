import { SetMetadata, type Type } from '@nestjs/common';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import type { CanCheck, CanOptions } from './resolver.interface.js';

/** Metadata keys of the decorators, read by the route policy. @internal */
export const IS_PUBLIC_KEY = 'zero-trust:public';
/** @internal */
export const IS_AUTHENTICATED_KEY = 'zero-trust:authenticated';
/** @internal */
export const CAN_KEY = 'zero-trust:can';
/** @internal */
export const MODE_KEY = 'zero-trust:mode';
/** @internal */
export const SCOPES_KEY = 'zero-trust:scopes';
/** Set by `@RiskPolicy` (risk/): a protecting decorator for the route audit. @internal */
export const RISK_POLICY_KEY = 'zero-trust:risk-policy';

/** Per-route risk policy, overriding the module's `risk` thresholds. @publicApi */
export interface RiskPolicyOptions {
  /** Scores above this are denied (403). @default risk.denyAbove */
  maxScore?: number;
  /** Scores above this need a step-up; every request does when only `acr`/`maxAuthAge` are set. @default risk.stepUpAbove */
  stepUpAbove?: number;
  /** The `acr` a step-up must reach. @default risk.stepUp.acr */
  acr?: string;
  /** Maximum age in seconds of the authentication (`auth_time`). @default risk.stepUp.maxAge */
  maxAuthAge?: number;
}

/**
 * Marks a route (or every route of a controller) as open to anonymous callers; with a protecting
 * decorator too, it is a boot-time error and never served anonymously. @publicApi
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

/** Any verified principal may call the route (e.g. `GET /me`); no ability check. @publicApi */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  SetMetadata(IS_AUTHENTICATED_KEY, true);

/**
 * Requires the caller's ability to allow `action` on `subject`, on handlers and controllers; it
 * may repeat and every check must pass. On a path with parameters, give a resolver (the record
 * the path names is checked) or `typeLevel: true`. @publicApi
 */
export function Can(
  action: string,
  subject: string | Type,
  options: CanOptions = {},
): MethodDecorator & ClassDecorator {
  if (typeof action !== 'string' || action.length === 0)
    throw new TypeError('@Can(action, subject): action must be a non-empty string');
  if (!(typeof subject === 'string' && subject.length > 0) && typeof subject !== 'function')
    throw new TypeError('@Can(action, subject): subject must be a subject name or a class');
  if (options.resolve !== undefined && options.typeLevel === true)
    throw new TypeError(
      '@Can(action, subject, options): give either resolve or typeLevel, not both',
    );
  const check: CanCheck = { action, subject, options };
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    const where = (descriptor?.value as object | undefined) ?? target;
    const existing = (Reflect.getOwnMetadata(CAN_KEY, where) as CanCheck[] | undefined) ?? [];
    // Decorators apply bottom-up; prepend so checks run in source order.
    Reflect.defineMetadata(CAN_KEY, [check, ...existing], where);
  };
}

/** Sets the authorization mode of a controller or handler, overriding the module's. @publicApi */
export const Mode = (mode: ZeroTrustMode): MethodDecorator & ClassDecorator => {
  if (mode !== 'enforce' && mode !== 'report-only')
    throw new TypeError('@Mode: mode must be "enforce" or "report-only"');
  return SetMetadata(MODE_KEY, mode);
};

/** `@Mode('report-only')`: denies are recorded as "would deny", the request proceeds. @publicApi */
export const ReportOnly = (): MethodDecorator & ClassDecorator => Mode('report-only');

/**
 * Requires OAuth scopes (the token's `scope` and `scp` must grant every one, or 403
 * `insufficient_scope`); implies authentication. @publicApi
 */
export function Scopes(...scopes: string[]): MethodDecorator & ClassDecorator {
  // RFC 6749 §3.3: a scope token is printable ASCII without space, `"` and `\`.
  const invalid = scopes.filter((scope) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope));
  if (scopes.length === 0 || invalid.length > 0)
    throw new TypeError('@Scopes(...scopes): each scope must be a non-empty RFC 6749 scope token');
  return SetMetadata(SCOPES_KEY, [...new Set(scopes)]);
}
