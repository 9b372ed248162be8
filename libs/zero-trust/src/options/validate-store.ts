import type { Redis } from 'ioredis';
import type { MemoryStoreLimits } from './zero-trust-options.interface.js';
import type { RevocationStore } from '../stores/revocation-store.interface.js';
import {
  SHARED_STATE_METHODS,
  type SharedStateStore,
} from '../stores/shared-state-store.interface.js';

/**
 * The `store` option with every default applied.
 *
 * @internal
 */
export type ResolvedStoreOptions =
  | ResolvedMemoryStoreOptions
  | { type: 'custom'; revocations: RevocationStore; state?: SharedStateStore }
  | ResolvedRedisStoreOptions;

/**
 * The memory `store` option with every default applied.
 *
 * @internal
 */
export interface ResolvedMemoryStoreOptions {
  type: 'memory';
  limits: Required<MemoryStoreLimits>;
}

const MEMORY_LIMITS: Required<MemoryStoreLimits> = {
  replay: 100_000,
  revocations: 100_000,
  principals: 100_000,
  addresses: 50_000,
};

/** The default memory store: every budget at its default. @internal */
export const DEFAULT_MEMORY_STORE: ResolvedMemoryStoreOptions = {
  type: 'memory',
  limits: MEMORY_LIMITS,
};

/**
 * The Redis `store` option with every default applied.
 *
 * @internal
 */
export interface ResolvedRedisStoreOptions {
  type: 'redis';
  url: string | undefined;
  client: Redis | undefined;
  keyPrefix: string;
  commandTimeout: number;
  connectTimeout: number;
  failOpen: { revocation: boolean; state: boolean };
}

const REDIS_METHODS = ['eval', 'mget', 'multi', 'set', 'get', 'ping', 'on'];
const REDIS_KEYS = new Set([
  'type',
  'url',
  'client',
  'keyPrefix',
  'commandTimeout',
  'connectTimeout',
  'failOpen',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const implementsAll = (value: unknown, methods: readonly string[]): boolean =>
  isObject(value) && methods.every((m) => typeof value[m] === 'function');

function isRedisUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/**
 * Validates the `store` option: `memory` (default), `redis` or `custom`. Problems are pushed to
 * `problems`; values are never echoed (a Redis URL may hold a password).
 *
 * @internal
 */
export function validateStore(value: unknown, problems: string[]): ResolvedStoreOptions {
  if (value === undefined) return DEFAULT_MEMORY_STORE;
  if (!isObject(value)) {
    problems.push('store must be an object');
    return DEFAULT_MEMORY_STORE;
  }
  switch (value.type) {
    case 'memory':
      return validateMemory(value, problems);
    case 'custom':
      return validateCustom(value, problems);
    case 'redis':
      return validateRedis(value, problems);
    default:
      problems.push('store.type must be "memory", "redis" or "custom"');
      return DEFAULT_MEMORY_STORE;
  }
}

function validateMemory(
  value: Record<string, unknown>,
  problems: string[],
): ResolvedMemoryStoreOptions {
  const limits = { ...MEMORY_LIMITS };
  for (const key of Object.keys(value))
    if (key !== 'type' && key !== 'limits')
      problems.push(`store.${key} is not a memory store option`);
  if (value.limits === undefined) return { type: 'memory', limits };
  if (!isObject(value.limits)) {
    problems.push('store.limits must be an object');
    return { type: 'memory', limits };
  }
  for (const [name, limit] of Object.entries(value.limits)) {
    if (!Object.hasOwn(MEMORY_LIMITS, name))
      problems.push(
        `store.limits.${name} is not a limit (replay, revocations, principals, addresses)`,
      );
    else if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)
      problems.push(`store.limits.${name} must be a positive integer (entries)`);
    else limits[name as keyof MemoryStoreLimits] = limit;
  }
  return { type: 'memory', limits };
}

function validateCustom(value: Record<string, unknown>, problems: string[]): ResolvedStoreOptions {
  const { revocations, state } = value;
  const before = problems.length;
  if (state !== undefined && !implementsAll(state, SHARED_STATE_METHODS))
    problems.push('store.state must implement SharedStateStore');
  if (!implementsAll(revocations, ['isRevoked', 'revokeToken', 'revokeSubject']))
    problems.push(
      'store.revocations must implement RevocationStore (revokeToken, revokeSubject, isRevoked)',
    );
  if (problems.length > before) return DEFAULT_MEMORY_STORE;
  return {
    type: 'custom',
    revocations: revocations as RevocationStore,
    state: state as SharedStateStore | undefined,
  };
}

function validateRedis(value: Record<string, unknown>, problems: string[]): ResolvedStoreOptions {
  const resolved: ResolvedRedisStoreOptions = {
    type: 'redis',
    url: undefined,
    client: undefined,
    keyPrefix: 'zt:',
    commandTimeout: 500,
    connectTimeout: 2000,
    failOpen: { revocation: false, state: false },
  };
  for (const key of Object.keys(value))
    if (!REDIS_KEYS.has(key)) problems.push(`store.${key} is not a Redis store option`);
  if ((value.url === undefined) === (value.client === undefined))
    problems.push('store needs either "url" or "client" for type "redis"');
  if (value.url !== undefined) {
    if (isRedisUrl(value.url)) resolved.url = value.url;
    else problems.push('store.url must be a redis:// or rediss:// URL');
  }
  if (value.client !== undefined) {
    if (implementsAll(value.client, REDIS_METHODS)) resolved.client = value.client as Redis;
    else problems.push('store.client must be an ioredis client');
  }
  if (value.keyPrefix !== undefined) {
    if (typeof value.keyPrefix === 'string') resolved.keyPrefix = value.keyPrefix;
    else problems.push('store.keyPrefix must be a string');
  }
  for (const name of ['commandTimeout', 'connectTimeout'] as const) {
    const ms = value[name];
    if (ms === undefined) continue;
    if (typeof ms === 'number' && Number.isInteger(ms) && ms > 0) resolved[name] = ms;
    else problems.push(`store.${name} must be a positive integer (milliseconds)`);
  }
  if (value.failOpen !== undefined) {
    if (!isObject(value.failOpen)) problems.push('store.failOpen must be an object');
    else
      for (const [concern, flag] of Object.entries(value.failOpen)) {
        if (concern !== 'revocation' && concern !== 'state')
          problems.push(`store.failOpen.${concern} is not a concern (revocation, state)`);
        else if (typeof flag !== 'boolean')
          problems.push(`store.failOpen.${concern} must be a boolean`);
        else resolved.failOpen[concern] = flag;
      }
  }
  return resolved;
}
