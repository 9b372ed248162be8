import { acknowledged } from '../../scale-out/replica-acks.js';
import type { RedisStoreClient } from '../../scale-out/redis-topology.js';
import {
  cutOff,
  scopesOf,
  type RevocableToken,
  type RevocationScope,
  type RevocationStore,
} from '../revocation-store.interface.js';
import { refusedWhenFull } from './redis-shared-state.store.js';

// Records a revocation, never shortening one: KEYS[1]'s value and expiry each become the maximum
// of the old ones and ARGV[1] (value), ARGV[2] (expiry, epoch seconds); a past expiry writes none.
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
 * {@link RevocationStore} in Redis, shared by every instance: each check reads Redis. Keys
 * `<prefix>revocation:jti:<jti>` and `<prefix>revocation:<sub|sid|grant>:<id>` expire when no token
 * they concern can still be valid; each key is its own hash slot on a cluster (one key per
 * script). Every call rejects while Redis is unreachable; a full `noeviction` Redis refuses a
 * revocation with `StoreFullError`. @publicApi
 */
export class RedisRevocationStore implements RevocationStore {
  /**
   * @param client - a connected ioredis client or cluster (not closed by the store)
   * @param keyPrefix - prepended to every key @default 'zt:'
   * @param replicaAcks - replicas that must hold a revocation (`WAIT`) before it resolves;
   *   fewer within `waitMs` is logged, not thrown (the master holds it) @default 0
   */
  constructor(
    private readonly client: RedisStoreClient,
    private readonly keyPrefix = 'zt:',
    private readonly replicaAcks = 0,
    private readonly waitMs = 500,
  ) {}

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    await this.revoke(this.key('jti', jti), '1', expiresAt);
  }

  async revokeIssuedBefore(
    scope: RevocationScope,
    id: string,
    issuedBefore: number,
    retainUntil: number,
  ): Promise<void> {
    await this.revoke(this.key(scope, id), String(Math.floor(issuedBefore)), retainUntil);
  }

  private async revoke(key: string, value: string, expires: number): Promise<void> {
    const until = String(Math.ceil(expires));
    const write = this.client.eval(REVOKE_SCRIPT, 1, key, value, until);
    await refusedWhenFull(
      acknowledged(this.client, write, key, this.replicaAcks, this.waitMs),
      'revocation',
    );
  }

  async isRevoked(token: RevocableToken): Promise<boolean> {
    const scopes = scopesOf(token);
    const keys = [this.key('jti', token.jti), ...scopes.map(([scope, id]) => this.key(scope, id))];
    // A cluster has the keys in different slots: one GET each (pipelined together).
    const [jti, ...cutoffs] = this.client.isCluster
      ? await Promise.all(keys.map((key) => this.client.get(key)))
      : await this.client.mget(keys);
    if (jti != null) return true;
    return cutoffs.some((before) => before != null && cutOff(token, Number(before)));
  }

  /** Resolves when Redis answers; rejects otherwise. */
  async ping(): Promise<void> {
    await this.client.ping();
  }

  private key(kind: 'jti' | RevocationScope, id: string): string {
    return `${this.keyPrefix}revocation:${kind}:${id}`;
  }
}
