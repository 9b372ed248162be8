import { AbilityBuilder, createMongoAbility } from '@casl/ability';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { hash } from 'node:crypto';
import { PendingEnvValue } from '../context/lazy-env.js';
import { DependencyUnavailableError, messageOf } from '../errors/zero-trust.error.js';
import type { Principal } from '../identity/principal.interface.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import type { AbilityDefinitions, AbilityEnv, ZeroTrustAbility } from './ability.types.js';
import { detectSubjectType } from './subject.js';

const MAX_ENV_LOADS = 8;

/** Builds a principal's ability; `readsEnv`: its definition read `env` (do not cache). @internal */
export async function buildAbility(
  definitions: AbilityDefinitions,
  principal: Principal,
  env: AbilityEnv,
): Promise<{ ability: ZeroTrustAbility; readsEnv: boolean }> {
  let readsEnv = false;
  const noting =
    <A extends unknown[], R>(trap: (...args: A) => R) =>
    (...args: A): R => {
      readsEnv = true;
      return trap(...args);
    };
  const tracked = new Proxy<AbilityEnv>(env, {
    get: noting(Reflect.get),
    has: noting(Reflect.has),
    ownKeys: noting(Reflect.ownKeys),
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

/**
 * Builds abilities from the module's definitions, cached in a bounded LRU unless the definition
 * reads `env`. @publicApi
 */
@Injectable()
export class AbilityFactory {
  private readonly logger = new Logger('ZeroTrust');
  private readonly cache: LRUCache<string, ZeroTrustAbility> | undefined;

  constructor(@Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions) {
    const { max, ttl } = options.abilityCache;
    this.cache =
      max > 0 && ttl > 0
        ? new LRUCache({ max, ttl: Math.max(1, Math.round(ttl * 1000)) })
        : undefined;
  }

  /**
   * The ability of `principal` in `env` (a function is called only when not cached).
   * @throws {DependencyUnavailableError} `ZT_POLICY_FAILED` when a definition throws (logged)
   */
  async createFor(
    principal: Principal,
    env: AbilityEnv | (() => AbilityEnv),
  ): Promise<ZeroTrustAbility> {
    const key = this.cache && this.keyFor(principal);
    const cached = key === undefined ? undefined : this.cache?.get(key);
    if (cached !== undefined) return cached;
    let built: Awaited<ReturnType<typeof buildAbility>>;
    try {
      const resolved = typeof env === 'function' ? env() : env;
      built = await buildAbility(this.options.abilities, principal, resolved);
    } catch (error) {
      this.logger.error(`The ${principal.kind} ability definition failed: ${messageOf(error)}`);
      throw new DependencyUnavailableError('ZT_POLICY_FAILED', error);
    }
    if (key !== undefined && !built.readsEnv) this.cache?.set(key, built.ability);
    return built.ability;
  }

  private keyFor(principal: Principal): string | undefined {
    const { kind, id, issuer, clientId, roles, scopes, attributes, token } = principal;
    try {
      // A definition may grant by login time, binding or device (JSON writes undefined as null).
      const material = JSON.stringify([
        this.options.policyVersion,
        [kind, id, issuer, clientId, roles, scopes, attributes],
        [token.acr, token.amr, token.authTime, token.device, token.cnf?.jkt],
        token.cnf?.['x5t#S256'],
      ]);
      return hash('sha256', material, 'base64url');
    } catch {
      return undefined; // e.g. a BigInt attribute: build every time rather than fail
    }
  }
}
