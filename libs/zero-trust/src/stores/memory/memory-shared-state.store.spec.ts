import { describe, expect, it } from 'vitest';
import { StoreFullError } from '../../errors/zero-trust.error.js';
import { keyClassOf } from '../shared-state-store.interface.js';
import { MemorySharedStateStore } from './memory-shared-state.store.js';

describe('MemorySharedStateStore', () => {
  it('claims a key once until it expires', async () => {
    let now = 0;
    const store = new MemorySharedStateStore({
      maxAddressKeys: 10,
      maxPrincipalKeys: 10,
      maxSetSize: 10,
      now: () => now,
    });
    expect(await store.claimOnce('jti:a', 60)).toBe(true);
    expect(await store.claimOnce('jti:a', 60)).toBe(false);
    now = 60_000;
    expect(await store.claimOnce('jti:a', 60)).toBe(true);
  });

  it('counts within a fixed window', async () => {
    let now = 0;
    const store = new MemorySharedStateStore({
      maxAddressKeys: 10,
      maxPrincipalKeys: 10,
      maxSetSize: 10,
      now: () => now,
    });
    expect(await store.increment('c', 10)).toBe(1);
    now = 9_000;
    expect(await store.increment('c', 10)).toBe(2);
    now = 10_000;
    expect(await store.increment('c', 10)).toBe(1);
  });

  it('keeps sets and capped lists, and stays bounded', async () => {
    const store = new MemorySharedStateStore({
      maxAddressKeys: 2,
      maxPrincipalKeys: 2,
      maxSetSize: 2,
    });
    expect(await store.addToSet('s', 'a', 60)).toBe(true);
    expect(await store.addToSet('s', 'a', 60)).toBe(false);
    await store.addToSet('s', 'b', 60);
    await store.addToSet('s', 'c', 60);
    expect(await store.hasMember('s', 'a')).toBe(false);
    await store.pushCapped('l', '1', 2, 60);
    await store.pushCapped('l', '2', 2, 60);
    await store.pushCapped('l', '3', 2, 60);
    expect(await store.list('l')).toEqual(['3', '2']);
    await store.set('k', 'v', 60);
    expect(await store.get('s')).toBeUndefined(); // evicted: only two keys are kept
    expect(await store.get('k')).toBe('v');
  });

  it('tells key classes apart by prefix', () => {
    expect(keyClassOf('replay:dpop:jkt:jti')).toBe('replay');
    expect(keyClassOf('addr:risk:failures:%3A%3A1')).toBe('address');
    expect(keyClassOf('zt:risk:geo:user:alice')).toBe('principal');
    expect(keyClassOf('rate:digest:hits')).toBe('principal');
    // A prefix only counts at the start.
    expect(keyClassOf('zt:risk:geo:user:replay:x')).toBe('principal');
  });

  it('keeps principal state and replay entries however many address keys are written', async () => {
    const now = 0;
    const store = new MemorySharedStateStore({
      maxReplayKeys: 3,
      maxAddressKeys: 5,
      maxPrincipalKeys: 5,
      now: () => now,
    });
    await store.set('zt:risk:geo:user:alice', 'London', 3600);
    await store.addToSet('zt:risk:device:user:alice', 'laptop', 3600);
    expect(await store.claimOnce('replay:dpop:k:1', 60)).toBe(true);
    for (let i = 0; i < 1000; i++) await store.increment(`addr:rate:${i}:hits`, 60);
    expect(store.sizes()).toEqual({ replay: 1, address: 5, principal: 2 });
    expect(await store.get('zt:risk:geo:user:alice')).toBe('London');
    expect(await store.hasMember('zt:risk:device:user:alice', 'laptop')).toBe(true);
    expect(await store.claimOnce('replay:dpop:k:1', 60)).toBe(false);
    // The most recent address keys are the ones kept.
    expect(await store.get('addr:rate:999:hits')).toBe('1');
    expect(await store.get('addr:rate:0:hits')).toBeUndefined();
  });

  it('never evicts a replay entry: a full replay budget refuses new ones until entries expire', async () => {
    let now = 0;
    const store = new MemorySharedStateStore({ maxReplayKeys: 2, now: () => now });
    expect(await store.claimOnce('replay:a', 60)).toBe(true);
    now = 10_000;
    expect(await store.claimOnce('replay:b', 60)).toBe(true);
    const refused = await store.claimOnce('replay:c', 60).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreFullError);
    expect(refused).toMatchObject({ code: 'ZT_STORE_FULL', concern: 'replay', limit: 2 });
    // Room frees when the oldest entry expires, 50 s from now.
    expect((refused as StoreFullError).retryAfter).toBe(50);
    expect((refused as StoreFullError).getStatus()).toBe(503);
    expect(await store.claimOnce('replay:a', 60)).toBe(false);
    expect(await store.claimOnce('replay:b', 60)).toBe(false);
    // Other classes are untouched by a full replay budget.
    expect(await store.increment('addr:x', 60)).toBe(1);
    now = 60_000; // replay:a expires
    expect(await store.claimOnce('replay:c', 60)).toBe(true);
    expect(await store.claimOnce('replay:b', 60)).toBe(false);
    expect(store.sizes().replay).toBe(2);
  });

  it('bounds principal state on its own, least recently used first', async () => {
    const store = new MemorySharedStateStore({ maxPrincipalKeys: 2, maxAddressKeys: 100 });
    await store.set('zt:risk:geo:user:a', '1', 60);
    await store.set('zt:risk:geo:user:b', '2', 60);
    await store.set('addr:risk:failures:x', '1', 60);
    await store.set('zt:risk:geo:user:c', '3', 60);
    expect(await store.get('zt:risk:geo:user:a')).toBeUndefined();
    expect(await store.get('zt:risk:geo:user:c')).toBe('3');
    expect(await store.get('addr:risk:failures:x')).toBe('1');
  });
});
