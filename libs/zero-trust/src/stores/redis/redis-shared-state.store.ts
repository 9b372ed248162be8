import { StoreFullError } from '../../errors/zero-trust.error.js';
import type { RedisStoreClient } from '../../scale-out/redis-topology.js';
import { keyClassOf, type SharedStateStore } from '../shared-state-store.interface.js';

/** INCR, and start the window when the counter is created (atomic: one script). */
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
`;

/** Runs a write; an `OOM` reply (Redis full under noeviction) makes it a full store. @internal */
export async function refusedWhenFull<T>(
  write: Promise<T>,
  concern: 'replay' | 'revocation',
): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('OOM '))
      throw new StoreFullError(concern);
    throw error;
  }
}

/** Redis rounds expiries to whole seconds here; never to zero, which would keep a key forever. */
const seconds = (ttl: number): number => Math.max(1, Math.ceil(ttl));

/**
 * {@link SharedStateStore} in Redis, shared by every instance. Each operation is one atomic
 * command, script or `MULTI` on one key (so one cluster slot); every key expires; every call
 * rejects while Redis is unreachable.
 * Run Redis with `maxmemory-policy noeviction`: another policy may drop a replay entry before it
 * expires (a captured DPoP proof would then work again); a full `noeviction` Redis refuses a new
 * replay entry with `StoreFullError` instead. @publicApi
 */
export class RedisSharedStateStore implements SharedStateStore {
  /**
   * @param client - a connected ioredis client or cluster (not closed by the store)
   * @param keyPrefix - prepended to every key @default 'zt:'
   */
  constructor(
    private readonly client: RedisStoreClient,
    private readonly keyPrefix = 'zt:',
  ) {}

  async claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    const claim = this.client.set(this.key(key), '1', 'EX', seconds(ttlSeconds), 'NX');
    const reply =
      keyClassOf(key) === 'replay' ? await refusedWhenFull(claim, 'replay') : await claim;
    return reply === 'OK';
  }

  async increment(key: string, windowSeconds: number): Promise<number> {
    const window = String(seconds(windowSeconds));
    return Number(await this.client.eval(INCREMENT_SCRIPT, 1, this.key(key), window));
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
