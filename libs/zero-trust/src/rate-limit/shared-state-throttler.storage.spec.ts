import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '../errors/zero-trust.error.js';
import { MemorySharedStateStore } from '../stores/memory/memory-shared-state.store.js';
import type { SharedStateStore } from '../stores/shared-state-store.interface.js';
import { SharedStateThrottlerStorage } from './shared-state-throttler.storage.js';

describe('SharedStateThrottlerStorage', () => {
  it('counts hits in a window that starts at the first hit, then blocks', async () => {
    let now = 1_000_000;
    const clock = (): number => now;
    const storage = new SharedStateThrottlerStorage(
      new MemorySharedStateStore({
        maxAddressKeys: 100,
        maxPrincipalKeys: 100,
        maxSetSize: 10,
        now: clock,
      }),
      clock,
    );
    expect(await storage.increment('user:alice', 60_000, 2, 30_000, 'default')).toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    now += 20_000;
    expect(await storage.increment('user:alice', 60_000, 2, 30_000, 'default')).toMatchObject({
      totalHits: 2,
      timeToExpire: 40,
      isBlocked: false,
    });
    expect(await storage.increment('user:bob', 60_000, 2, 30_000, 'default')).toMatchObject({
      totalHits: 1,
    });
    expect(await storage.increment('user:alice', 60_000, 2, 30_000, 'other')).toMatchObject({
      totalHits: 1,
    });
    expect(await storage.increment('user:alice', 60_000, 2, 30_000, 'default')).toMatchObject({
      totalHits: 3,
      isBlocked: true,
      timeToBlockExpire: 30,
    });
    now += 10_000;
    expect(await storage.increment('user:alice', 60_000, 2, 30_000, 'default')).toMatchObject({
      isBlocked: true,
      timeToBlockExpire: 20,
    });
    now += 30_000; // the window (60 s) and the block (30 s) are both over
    expect(await storage.increment('user:alice', 60_000, 2, 30_000, 'default')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it("counts a principal's hits as principal state and anyone else's as per-address state", async () => {
    const store = new MemorySharedStateStore({ maxAddressKeys: 10, maxPrincipalKeys: 10 });
    const storage = new SharedStateThrottlerStorage(store);
    await storage.increment('default:user:alice', 60_000, 5, 0, 'default');
    expect(store.sizes()).toMatchObject({ principal: 2, address: 0 });
    // Anonymous callers, custom trackers and keys that only look like a principal's.
    for (const key of ['default:ip:203.0.113.7', 'custom-key', 'other:user:alice'])
      await storage.increment(key, 60_000, 5, 0, 'default');
    expect(store.sizes()).toMatchObject({ principal: 2, address: 6 });
    // However many addresses call, alice's count stays.
    for (let i = 0; i < 50; i++)
      await storage.increment(`default:ip:10.0.0.${i}`, 60_000, 5, 0, 'default');
    expect(await storage.increment('default:user:alice', 60_000, 5, 0, 'default')).toMatchObject({
      totalHits: 2,
    });
  });

  it('refuses with ZT_STORE_UNAVAILABLE when the store fails', async () => {
    const failing = {
      get: () => Promise.reject(new Error('down')),
    } as unknown as SharedStateStore;
    const storage = new SharedStateThrottlerStorage(failing);
    await expect(storage.increment('k', 1000, 1, 0, 'default')).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    // A store that throws instead of rejecting: still a rejection, never a throw.
    const throwing = {
      get: () => {
        throw new Error('bug');
      },
    } as unknown as SharedStateStore;
    const answer = new SharedStateThrottlerStorage(throwing).increment('k', 1000, 1, 0, 'default');
    await expect(answer).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
