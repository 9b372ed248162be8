import { Logger } from '@nestjs/common';
import { StoreFullError } from '../errors/zero-trust.error.js';
import type { RevocationStore } from './revocation-store.interface.js';
import type { SharedStateStore } from './shared-state-store.interface.js';
import { due } from './store-full.js';

const logger = new Logger('ZeroTrustStore');
const lastWarned = new Map<string, number>();

async function orElse<T>(operation: Promise<T>, fallback: T, concern: string): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    // A full store is no outage: failing open would accept the proof it could not remember.
    if (error instanceof StoreFullError) throw error;
    if (due(lastWarned, concern))
      logger.warn(`The ${concern} store is unavailable; failing open as configured`);
    return fallback;
  }
}

/** `store.failOpen.revocation`: "not revoked" when the store fails (revoking rejects). @internal */
export function failOpenRevocations(store: RevocationStore): RevocationStore {
  return {
    revokeToken: store.revokeToken.bind(store),
    revokeIssuedBefore: store.revokeIssuedBefore.bind(store),
    isRevoked: (token) => orElse(store.isRevoked(token), false, 'revocation'),
  };
}

/** `store.failOpen.state`: empty answers when the store fails; `ping` still rejects. @internal */
export function failOpenState(store: SharedStateStore): SharedStateStore {
  return {
    claimOnce: (key, ttl) => orElse(store.claimOnce(key, ttl), true, 'state'),
    increment: (key, window) => orElse(store.increment(key, window), 0, 'state'),
    get: (key) => orElse(store.get(key), undefined, 'state'),
    set: (key, value, ttl) => orElse(store.set(key, value, ttl), undefined, 'state'),
    addToSet: (key, member, ttl) => orElse(store.addToSet(key, member, ttl), false, 'state'),
    hasMember: (key, member) => orElse(store.hasMember(key, member), false, 'state'),
    pushCapped: (key, value, max, ttl) =>
      orElse(store.pushCapped(key, value, max, ttl), undefined, 'state'),
    list: (key) => orElse(store.list(key), [], 'state'),
    ping: store.ping.bind(store),
  };
}
