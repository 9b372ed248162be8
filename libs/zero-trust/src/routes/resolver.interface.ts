import type { Type } from '@nestjs/common';
import type { Principal } from '../identity/principal.interface.js';

/** What a resolver receives to load the record a route acts on. @publicApi */
export interface ResolveContext {
  /** The route parameters (e.g. `{ id: 'inv-1' }`). */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** The query string, as parsed by the HTTP adapter. */
  readonly query: Readonly<Record<string, unknown>>;
  /** The parsed request body, if any. */
  readonly body: unknown;
  /** The verified caller. */
  readonly principal: Principal;
  readonly action: string;
  /** The subject type being checked. */
  readonly subject: string;
  /** The underlying request object of the HTTP adapter. */
  readonly request: unknown;
}

/** Loads the record a route acts on; `null` or `undefined` means "not found" (404). @publicApi */
export type ResolverFunction<T extends object = object> = (
  context: ResolveContext,
) => T | null | undefined | Promise<T | null | undefined>;

/** An injectable class that loads the record a route acts on. @publicApi */
export interface SubjectResolver<T extends object = object> {
  resolve(context: ResolveContext): T | null | undefined | Promise<T | null | undefined>;
}

/** Options of {@link Can}. @publicApi */
export interface CanOptions {
  /** Loads the record the conditions are checked on: 404 when it finds none, 503 if it throws. */
  resolve?: ResolverFunction | Type<SubjectResolver>;
  /** The check is meant for *some* record, not the one the path names (not with `resolve`). */
  typeLevel?: boolean;
  /**
   * Field-level check: `'body'` checks the body's top-level keys, a function returns the fields
   * to check. @default 'body' for POST, PUT and PATCH; false otherwise
   */
  fields?: 'body' | false | ((context: ResolveContext) => string[]);
}

/** One `@Can` check, as stored in route metadata. @internal */
export interface CanCheck {
  readonly action: string;
  readonly subject: string | Type;
  readonly options: CanOptions;
}

/** Whether a `resolve` option is an injectable class rather than a function. @internal */
export function isResolverClass(
  resolver: CanOptions['resolve'],
): resolver is Type<SubjectResolver> {
  const prototype = (resolver as { prototype?: { resolve?: unknown } } | undefined)?.prototype;
  return typeof prototype?.resolve === 'function';
}
