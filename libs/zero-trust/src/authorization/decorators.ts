import { SetMetadata, type Type } from '@nestjs/common';
import type { ZeroTrustMode as Mode } from '../options/zero-trust-options.interface.js';
import { CAN_KEY, IS_AUTHENTICATED_KEY, IS_PUBLIC_KEY, MODE_KEY } from '../zero-trust.constants.js';
import type { CanCheck, CanOptions } from './resolver.interface.js';

/**
 * Marks a route (or every route of a controller) as open to anonymous callers. Nothing else is:
 * the module's guards deny every route without `@Public`, `@Authenticated` or `@Can`.
 *
 * @publicApi
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

/**
 * Any verified principal may call the route; no ability check. Use for routes such as `GET /me`.
 *
 * @publicApi
 */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  SetMetadata(IS_AUTHENTICATED_KEY, true);

/**
 * Requires the caller's ability to allow `action` on `subject`. Works on handlers and on
 * controller classes, and may repeat: every check (class and handler) must pass.
 *
 * @param action - e.g. `'read'`, `'update'`
 * @param subject - a subject type name (`'Invoice'`) or class
 * @param options - a resolver that loads the record, and field-level checks
 * @example
 * ```ts
 * @Patch(':id')
 * @Can('update', 'Invoice', { resolve: InvoiceResolver })
 * update(@Param('id') id: string, @Body() patch: InvoicePatch) { ... }
 * ```
 * @publicApi
 */
export function Can(
  action: string,
  subject: string | Type,
  options: CanOptions = {},
): MethodDecorator & ClassDecorator {
  if (typeof action !== 'string' || action.length === 0)
    throw new TypeError('@Can(action, subject): action must be a non-empty string');
  if (!(typeof subject === 'string' && subject.length > 0) && typeof subject !== 'function') {
    throw new TypeError('@Can(action, subject): subject must be a subject name or a class');
  }
  const check: CanCheck = { action, subject, options };
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    const where = (descriptor?.value as object | undefined) ?? target;
    const existing = (Reflect.getOwnMetadata(CAN_KEY, where) as CanCheck[] | undefined) ?? [];
    // Decorators apply bottom-up; prepend so checks run in source order.
    Reflect.defineMetadata(CAN_KEY, [check, ...existing], where);
  };
}

/**
 * Sets the authorization mode of a controller or handler, overriding the module's `mode`.
 * Token verification is always enforced.
 *
 * @publicApi
 */
export const ZeroTrustMode = (mode: Mode): MethodDecorator & ClassDecorator => {
  if (mode !== 'enforce' && mode !== 'report-only')
    throw new TypeError('@ZeroTrustMode: mode must be "enforce" or "report-only"');
  return SetMetadata(MODE_KEY, mode);
};

/**
 * Report-only for this controller or handler: authorization denies are recorded as
 * "would deny" and the request proceeds. Shorthand for `@ZeroTrustMode('report-only')`.
 *
 * @publicApi
 */
export const ReportOnly = (): MethodDecorator & ClassDecorator => ZeroTrustMode('report-only');
