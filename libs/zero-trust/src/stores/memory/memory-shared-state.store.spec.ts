import { describe, expect, it, vi } from 'vitest';
import { MemorySharedStateStore } from './memory-shared-state.store.js';

describe('MemorySharedStateStore', () => {
  it('claims a key once until it expires', async () => {
    let now = 0;
    const store = new MemorySharedStateStore(10, 10, () => now);
    expect(await store.claimOnce('jti:a', 60)).toBe(true);
    expect(await store.claimOnce('jti:a', 60)).toBe(false);
    now = 60_000;
    expect(await store.claimOnce('jti:a', 60)).toBe(true);
  });

  it('counts within a fixed window', async () => {
    let now = 0;
    const store = new MemorySharedStateStore(10, 10, () => now);
    expect(await store.increment('c', 10)).toBe(1);
    now = 9_000;
    expect(await store.increment('c', 10)).toBe(2);
    now = 10_000;
    expect(await store.increment('c', 10)).toBe(1);
  });

  it('keeps sets and capped lists, and stays bounded', async () => {
    const store = new MemorySharedStateStore(2, 2);
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

  it('answers the library synchronously, unless a subclass or a replaced method must be honoured', async () => {
    const plain = new MemorySharedStateStore();
    const direct = MemorySharedStateStore.accessOf(plain);
    expect(direct.increment('n', 60)).toBe(1);
    // The same state behind both faces.
    expect(await plain.increment('n', 60)).toBe(2);
    expect(direct.get('n')).toBe('2');

    class Counting extends MemorySharedStateStore {
      reads = 0;
      override get(key: string): Promise<string | undefined> {
        this.reads++;
        return super.get(key);
      }
    }
    const counting = new Counting();
    const viaSubclass = MemorySharedStateStore.accessOf(counting).get('n');
    expect(viaSubclass).toBeInstanceOf(Promise);
    await viaSubclass;
    expect(counting.reads).toBe(1);

    const wrapped = new MemorySharedStateStore();
    const seen: string[] = [];
    const original = wrapped.set.bind(wrapped);
    wrapped.set = (key, value, ttl) => {
      seen.push(key);
      return original(key, value, ttl);
    };
    await MemorySharedStateStore.accessOf(wrapped).set('k', 'v', 60);
    expect(seen).toEqual(['k']);
    expect(await wrapped.get('k')).toBe('v');

    // A method replaced on the class itself (a spy on the prototype) is honoured too.
    const spy = vi.spyOn(MemorySharedStateStore.prototype, 'get');
    try {
      expect(await MemorySharedStateStore.accessOf(plain).get('n')).toBe('2');
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
    expect(MemorySharedStateStore.accessOf(plain).get('n')).toBe('2');
  });
});
