import type { Redis } from 'ioredis';
import { StoreFullError } from '../../errors/zero-trust.error.js';
import { keyClassOf, type SharedStateStore } from '../shared-state-store.interface.js';

/** INCR, and start the window when the counter is created (atomic: one script). */
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
`;

/**
 * Whether Redis refused a write for want of memory (`OOM command not allowed when used memory >
 * 'maxmemory'`), which a Redis under `maxmemory-policy noeviction` answers when full.
 *
 * @internal
 */
export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('OOM ');
}

/** Redis rounds expiries to whole seconds here; never to zero, which would keep a key forever. */
const seconds = (ttl: number): number => Math.max(1, Math.ceil(ttl));

/**
 * {@link SharedStateStore} in Redis, shared by every instance of the application. Each operation
 * is one atomic command, script or `MULTI` block, and every key expires. Keys are the caller's
 * keys behind `keyPrefix`. Every call rejects when Redis is unreachable (the module's
 * `commandTimeout` bounds how long that takes).
 *
 * Run Redis with `maxmemory-policy noeviction`: any other policy lets Redis drop keys before they
 * expire under memory pressure (every key here has a TTL, so the `volatile-*` policies may drop
 * all of them too), and a dropped replay entry lets a captured DPoP proof be used again. Under
 * `noeviction` a full Redis refuses writes instead: a new replay entry then fails with
 * `StoreFullError` (503 `ZT_STORE_FULL`). The health indicator reports any other policy.
 *
 * @example
 * ```ts
 * const state = new RedisSharedStateStore(new Redis(process.env.REDIS_URL), 'billing:');
 * ```
 * @publicApi
 */
export class RedisSharedStateStore implements SharedStateStore {
  /**
   * @param client - a connected ioredis client (not closed by the store)
   * @param keyPrefix - prepended to every key @default 'zt:'
   */
  constructor(
    private readonly client: Redis,
    private readonly keyPrefix = 'zt:',
  ) {}

  async claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    let reply: string | null;
    try {
      reply = await this.client.set(this.key(key), '1', 'EX', seconds(ttlSeconds), 'NX');
    } catch (error) {
      // Under `maxmemory-policy noeviction` a full Redis refuses writes: a full replay store.
      if (isOutOfMemory(error) && keyClassOf(key) === 'replay') throw new StoreFullError('replay');
      throw error;
    }
    return reply === 'OK';
  }

  async increment(key: string, windowSeconds: number): Promise<number> {
    const count = await this.client.eval(
      INCREMENT_SCRIPT,
      1,
      this.key(key),
      String(seconds(windowSeconds)),
    );
    return Number(count);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(this.key(key))) ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.client.set(this.key(key), value, 'EX', seconds(ttlSeconds));
  }

  async addToSet(key: string, member: string, ttlSeconds: number): Promise<boolean> {
    const k = this.key(key);
    const replies = await this.client.multi().sadd(k, member).expire(k, seconds(ttlSeconds)).exec();
    return Number(this.first(replies)) === 1;
  }

  async hasMember(key: string, member: string): Promise<boolean> {
    return (await this.client.sismember(this.key(key), member)) === 1;
  }

  async pushCapped(
    key: string,
    value: string,
    maxLength: number,
    ttlSeconds: number,
  ): Promise<void> {
    const k = this.key(key);
    const multi = this.client.multi().lpush(k, value);
    if (maxLength <= 0) multi.del(k);
    else multi.ltrim(k, 0, maxLength - 1).expire(k, seconds(ttlSeconds));
    this.first(await multi.exec());
  }

  async list(key: string): Promise<string[]> {
    return this.client.lrange(this.key(key), 0, -1);
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  private key(key: string): string {
    return `${this.keyPrefix}${key}`;
  }

  /** The first reply of a transaction, or the first error it met. */
  private first(replies: [Error | null, unknown][] | null): unknown {
    if (replies === null) throw new Error('The Redis transaction was aborted');
    for (const [error] of replies) if (error !== null) throw error;
    return replies[0]?.[1];
  }
}
