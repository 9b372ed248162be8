import type { Redis } from 'ioredis';
import { StoreFullError } from '../../errors/zero-trust.error.js';
import type { RevocationStore } from '../revocation-store.interface.js';
import { isOutOfMemory } from './redis-shared-state.store.js';

/**
 * Records a revocation without ever shortening an existing one. KEYS[1] holds the value;
 * ARGV[1] is the value candidate (seconds), ARGV[2] the expiry candidate (seconds since the
 * epoch). The stored value and expiry each become the maximum of the old and new ones; an entry
 * whose expiry has already passed is not written.
 */
const REVOKE_SCRIPT = `
local now = tonumber(redis.call('TIME')[1])
local value = tonumber(ARGV[1])
local expires = tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '')
if current then
  if current > value then value = current end
  local ttl = redis.call('TTL', KEYS[1])
  if ttl > 0 and now + ttl > expires then expires = now + ttl end
end
if expires <= now then return 0 end
redis.call('SET', KEYS[1], tostring(value), 'EXAT', expires)
return 1
`;

/**
 * {@link RevocationStore} in Redis, shared by every instance of the application: a revocation
 * made by one instance is enforced by all of them on their next request, since each check reads
 * Redis. Entries expire when no token they concern can still be valid.
 *
 * Keys: `<prefix>revocation:jti:<jti>` and `<prefix>revocation:sub:<subject>`, each with a TTL.
 * Every call rejects when Redis is unreachable; the library then refuses the request (503
 * `ZT_STORE_UNAVAILABLE`) unless the module's `store.failOpen.revocation` is set. Run Redis with
 * `maxmemory-policy noeviction` (see `RedisSharedStateStore`): a full Redis then refuses a
 * revocation with `StoreFullError` instead of evicting one.
 *
 * @example
 * ```ts
 * const store = new RedisRevocationStore(new Redis(process.env.REDIS_URL), 'billing:');
 * ```
 * @publicApi
 */
export class RedisRevocationStore implements RevocationStore {
  /**
   * @param client - a connected ioredis client (not closed by the store)
   * @param keyPrefix - prepended to every key @default 'zt:'
   */
  constructor(
    private readonly client: Redis,
    private readonly keyPrefix = 'zt:',
  ) {}

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    await this.revoke(this.jtiKey(jti), '1', String(Math.ceil(expiresAt)));
  }

  async revokeSubject(subject: string, issuedBefore: number, retainUntil: number): Promise<void> {
    await this.revoke(
      this.subjectKey(subject),
      String(Math.floor(issuedBefore)),
      String(Math.ceil(retainUntil)),
    );
  }

  /** Runs the revoke script; a Redis full under `noeviction` is a full revocation store. */
  private async revoke(key: string, value: string, expires: string): Promise<void> {
    try {
      await this.client.eval(REVOKE_SCRIPT, 1, key, value, expires);
    } catch (error) {
      if (isOutOfMemory(error)) throw new StoreFullError('revocation');
      throw error;
    }
  }

  async isRevoked(token: { jti: string; sub: string; iat: number }): Promise<boolean> {
    const [jti, subject] = await this.client.mget(
      this.jtiKey(token.jti),
      this.subjectKey(token.sub),
    );
    if (jti !== null && jti !== undefined) return true;
    return subject !== null && subject !== undefined && token.iat <= Number(subject);
  }

  /** Resolves when Redis answers; rejects otherwise. */
  async ping(): Promise<void> {
    await this.client.ping();
  }

  private jtiKey(jti: string): string {
    return `${this.keyPrefix}revocation:jti:${jti}`;
  }

  private subjectKey(subject: string): string {
    return `${this.keyPrefix}revocation:sub:${subject}`;
  }
}
