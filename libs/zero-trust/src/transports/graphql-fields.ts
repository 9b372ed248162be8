import { Inject, Injectable, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import {
  CAN_KEY,
  IS_AUTHENTICATED_KEY,
  IS_PUBLIC_KEY,
  MODE_KEY,
  RISK_POLICY_KEY,
  SCOPES_KEY,
} from '../routes/decorators.js';
import type { ResolveContext } from '../routes/resolver.interface.js';

/** @nestjs/graphql's metadata of a `@ResolveField` method. */
const FIELD_RESOLVER_METADATA = 'graphql:resolve_property';
/** @nestjs/graphql's provider of the module's options (`GraphQLModule.forRoot`). */
const GRAPHQL_OPTIONS = 'GqlModuleOptions';
/** The library's decorators that give a method a policy of its own. */
const POLICY_KEYS = [CAN_KEY, IS_AUTHENTICATED_KEY, IS_PUBLIC_KEY, SCOPES_KEY, MODE_KEY];

/** Where a field is in the response: graphql-js's `info.path`, one object per execution. @internal */
export interface FieldPath {
  readonly prev: FieldPath | undefined;
  readonly key: string | number;
}

/** The parent object of each field resolver's view (what {@link parentOf} reads). @internal */
export const parents = new WeakMap<object, unknown>();
/** The context each field was decided on, by its path (for the fields below it). @internal */
export const decided = new WeakMap<FieldPath, ZeroTrustRequestContext>();

/** Whether a handler is a `@ResolveField` method. @internal */
export const isFieldResolver = (handler: unknown): boolean =>
  typeof handler === 'function' && Reflect.getMetadata(FIELD_RESOLVER_METADATA, handler) === true;

/** Whether a method carries a zero-trust decorator of its own (not only its class's). @internal */
export const hasOwnPolicy = (handler: object): boolean =>
  POLICY_KEYS.some((key) => Reflect.hasMetadata(key, handler));

/** The context of the nearest decided field above `path` (its root field at most). @internal */
export function decidedAbove(path: FieldPath | undefined): ZeroTrustRequestContext | undefined {
  for (let at = path?.prev; at !== undefined; at = at.prev) {
    const context = decided.get(at);
    if (context !== undefined) return context;
  }
  return undefined;
}

/**
 * A resolver of record that returns the parent object of a `@ResolveField` method: its `@Can` is
 * then decided on that record, e.g. `@Can('read', 'Invoice', { resolve: parentOf, fields:
 * () => ['notes'] })` on the `notes` field of `Invoice`. Undefined (a 404 refusal) anywhere else.
 * @publicApi
 */
export function parentOf(context: ResolveContext): object | undefined {
  const parent = parents.get(context.request as object);
  return typeof parent === 'object' && parent !== null ? parent : undefined;
}

/**
 * Stops the boot on a `@ResolveField` method whose policy (`@Can`, `@Scopes`, ...) would never run
 * and so serve the field to anyone who may read its parent: @nestjs/graphql runs guards on field
 * resolvers only with `fieldResolverEnhancers: ['guards']`. And on `@RiskPolicy` on one: risk is
 * assessed once per root field. @internal
 */
@Injectable()
export class GraphqlFieldAudit implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    const guarded = this.guardsRun();
    const problems: string[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const type = wrapper.metatype as Type | undefined;
      const prototype = type?.prototype as Record<string, unknown> | undefined;
      if (type === undefined || prototype === undefined) continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (!isFieldResolver(handler)) continue;
        const at = `${type.name}.${name} (@ResolveField)`;
        if (Reflect.hasMetadata(RISK_POLICY_KEY, handler as object))
          problems.push(`${at} has @RiskPolicy: risk is assessed on the root field, put it there`);
        if (!guarded && hasOwnPolicy(handler as object))
          problems.push(
            `${at} has a policy that would never run: set fieldResolverEnhancers: ['guards'] in the GraphQL module's options`,
          );
      }
    }
    if (problems.length > 0)
      throw new ZeroTrustConfigurationError('ZT_ROUTE_POLICY_INVALID', problems);
  }

  /** Whether the GraphQL module (if any) runs guards on field resolvers. */
  private guardsRun(): boolean {
    try {
      const options = this.moduleRef.get<{ fieldResolverEnhancers?: string[] }>(GRAPHQL_OPTIONS, {
        strict: false,
      });
      return options.fieldResolverEnhancers?.includes('guards') === true;
    } catch {
      // No GraphQL module: no field resolver is ever called.
      return false;
    }
  }
}
