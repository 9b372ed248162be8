import { AbilityBuilder, createMongoAbility } from '@casl/ability';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DependencyUnavailableError } from '../errors/zero-trust.error.js';
import { hash } from 'node:crypto';
import { PendingEnvValue } from '../context/lazy-env.js';
import type { Principal } from '../identity/principal.interface.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import type { AbilityDefinitions, AbilityEnv, ZeroTrustAbility } from './ability.types.js';
import { detectSubjectType } from './subject.js';

const MAX_ENV_LOADS = 8;

/**
 * Builds the ability of a principal from the definitions, and tells whether the definition
 * read the request environment (then the result must not be reused for another request).
 *
 * @internal
 */
export async function buildAbility(
  definitions: AbilityDefinitions,
  principal: Principal,
  env: AbilityEnv,
): Promise<{ ability: ZeroTrustAbility; readsEnv: boolean }> {
  let readsEnv = false;
  const tracked = new Proxy(env, {
    get(target, property, receiver) {
      readsEnv = true;
      return Reflect.get(target, property, receiver) as unknown;
    },
    has(target, property) {
      readsEnv = true;
      return Reflect.has(target, property);
    },
    ownKeys(target) {
      readsEnv = true;
      return Reflect.ownKeys(target);
    },
  });
  const define = definitions[principal.kind];
  // A lazy env value (e.g. `env.risk`) read before it is loaded is awaited, then the definition
  // runs again on a fresh builder: costly values are computed only for definitions reading them.
  for (let attempt = 0; ; attempt++) {
    const builder = new AbilityBuilder<ZeroTrustAbility>(createMongoAbility);
    try {
      if (define !== undefined) await define(principal, tracked, builder);
      return { ability: builder.build({ detectSubjectType }), readsEnv };
    } catch (error) {
      if (!(error instanceof PendingEnvValue) || attempt >= MAX_ENV_LOADS) throw error;
      await error.load();
    }
  }
}

/** Longest ability cache key kept as is rather than digested. */
const MAX_PLAIN_KEY = 256;

/**
 * The part of a principal an ability may depend on: its identity, not its token's timestamps.
 *
 * @internal
 */
export function abilityCacheKey(principal: Principal, policyVersion: string): string {
  const material = JSON.stringify([
    policyVersion,
    principal.kind,
    principal.id,
    principal.issuer,
    principal.clientId ?? null,
    principal.roles,
    principal.scopes,
    principal.token.acr ?? null,
    principal.token.amr ?? null,
    principal.attributes,
  ]);
  // A short identity is its own key (no digest to compute per new token); a long one (many
  // roles or attributes) is kept as its SHA-256. JSON starts with "[", a digest never does.
  return material.length <= MAX_PLAIN_KEY ? material : hash('sha256', material, 'base64url');
}

/**
 * Builds abilities from the module's definitions, caching them per principal identity and
 * policy version in a bounded LRU. A definition that reads `env` is rebuilt every time.
 *
 * @publicApi
 */
@Injectable()
export class AbilityFactory {
  private readonly logger = new Logger('ZeroTrust');
  /** Absent when `abilityCache.max` or `.ttl` is 0. */
  private readonly cache: LRUCache<string, ZeroTrustAbility> | undefined;
  /** Principals are frozen and reused by the token cache, so their key can be remembered. */
  private readonly keys = new WeakMap<Principal, string | undefined>();

  constructor(@Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions) {
    const { max, ttl } = options.abilityCache;
    this.cache =
      max > 0 && ttl > 0
        ? new LRUCache({ max, ttl: Math.max(1, Math.round(ttl * 1000)) })
        : undefined;
  }

  /**
   * The ability of `principal` in the request environment `env`. `env` may be a function
   * building it: it is then called only when the ability is not cached.
   * @throws {DependencyUnavailableError} `ZT_POLICY_FAILED` when a definition throws: the
   *   request is refused (fail closed) and the cause is logged, never returned to the caller
   */
  async createFor(
    principal: Principal,
    env: AbilityEnv | (() => AbilityEnv),
  ): Promise<ZeroTrustAbility> {
    const cached = this.cachedFor(principal);
    if (cached !== undefined) return cached;
    const key = this.keyFor(principal);
    let built: { ability: ZeroTrustAbility; readsEnv: boolean };
    try {
      built = await buildAbility(
        this.options.abilities,
        principal,
        typeof env === 'function' ? env() : env,
      );
    } catch (error) {
      this.logger.error(
        `The ${principal.kind} ability definition failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw new DependencyUnavailableError('ZT_POLICY_FAILED', error);
    }
    if (key !== undefined && !built.readsEnv) this.cache?.set(key, built.ability);
    return built.ability;
  }

  /**
   * The cached ability of `principal`, if there is one: what `createFor` would answer without
   * building anything, without a promise.
   */
  cachedFor(principal: Principal): ZeroTrustAbility | undefined {
    const key = this.keyFor(principal);
    return key === undefined ? undefined : this.cache?.get(key);
  }

  /** The cache key of a principal, memoized per principal object; none if not serializable. */
  private keyFor(principal: Principal): string | undefined {
    if (this.keys.has(principal)) return this.keys.get(principal);
    let key: string | undefined;
    try {
      key = abilityCacheKey(principal, this.options.policyVersion);
    } catch {
      key = undefined; // e.g. a BigInt attribute: build every time rather than fail
    }
    this.keys.set(principal, key);
    return key;
  }

  /** Drops every cached ability (e.g. after changing roles stored outside the token). */
  clear(): void {
    this.cache?.clear();
  }
}
