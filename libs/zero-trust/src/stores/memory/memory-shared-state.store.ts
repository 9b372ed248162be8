import { OldestKeys } from '../../utils/oldest-keys.js';
import type { SharedStateAccess, SharedStateStore } from '../shared-state-store.interface.js';

/** `written`: when the entry last moved to the most recent end of the eviction order. */
type Entry =
  | { kind: 'value'; value: string; expires: number; written: number }
  | { kind: 'set'; members: Set<string>; expires: number; written: number }
  | { kind: 'list'; items: string[]; expires: number; written: number };

/**
 * An entry written again within this many milliseconds keeps its place in the eviction order:
 * a hot key (a counter, a known device) is updated in place instead of being removed from and
 * re-added to the map on every request, which filled the map with deleted slots to compact.
 */
const REORDER_AFTER_MS = 1000;

/** The memory store's state and operations, answered synchronously. */
class MemorySharedState implements SharedStateAccess {
  private readonly entries = new Map<string, Entry>();
  private readonly oldest = new OldestKeys(this.entries);

  constructor(
    private readonly maxKeys: number,
    private readonly maxSetSize: number,
    private readonly now: () => number,
  ) {}

  claimOnce(key: string, ttlSeconds: number): boolean {
    if (this.read(key) !== undefined) return false;
    this.add(key, { kind: 'value', value: '1', expires: this.expiry(ttlSeconds), written: 0 });
    return true;
  }

  increment(key: string, windowSeconds: number): number {
    const entry = this.read(key);
    if (entry?.kind === 'value') {
      const count = Number(entry.value) + 1;
      entry.value = String(count);
      this.touch(key, entry);
      return count;
    }
    this.add(key, { kind: 'value', value: '1', expires: this.expiry(windowSeconds), written: 0 });
    return 1;
  }

  get(key: string): string | undefined {
    const entry = this.read(key);
    return entry?.kind === 'value' ? entry.value : undefined;
  }

  set(key: string, value: string, ttlSeconds: number): void {
    const entry = this.read(key);
    if (entry?.kind === 'value') {
      entry.value = value;
      entry.expires = this.expiry(ttlSeconds);
      this.touch(key, entry);
    } else this.add(key, { kind: 'value', value, expires: this.expiry(ttlSeconds), written: 0 });
  }

  addToSet(key: string, member: string, ttlSeconds: number): boolean {
    const entry = this.read(key);
    const members = entry?.kind === 'set' ? entry.members : new Set<string>();
    const added = !members.has(member);
    if (added) {
      members.add(member);
      if (members.size > this.maxSetSize) {
        const oldest = members.values().next();
        if (oldest.done !== true) members.delete(oldest.value);
      }
    }
    if (entry?.kind === 'set') {
      entry.expires = this.expiry(ttlSeconds);
      this.touch(key, entry);
    } else this.add(key, { kind: 'set', members, expires: this.expiry(ttlSeconds), written: 0 });
    return added;
  }

  hasMember(key: string, member: string): boolean {
    const entry = this.read(key);
    return entry?.kind === 'set' && entry.members.has(member);
  }

  pushCapped(key: string, value: string, maxLength: number, ttlSeconds: number): void {
    const entry = this.read(key);
    const items = entry?.kind === 'list' ? entry.items : [];
    items.unshift(value);
    items.length = Math.min(items.length, Math.max(0, maxLength));
    if (entry?.kind === 'list') {
      entry.expires = this.expiry(ttlSeconds);
      this.touch(key, entry);
    } else this.add(key, { kind: 'list', items, expires: this.expiry(ttlSeconds), written: 0 });
  }

  list(key: string): string[] {
    const entry = this.read(key);
    return entry?.kind === 'list' ? [...entry.items] : [];
  }

  private expiry(ttlSeconds: number): number {
    return this.now() + ttlSeconds * 1000;
  }

  private read(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Puts a new entry (replacing any other under `key`) at the most recent end. */
  private add(key: string, entry: Entry): void {
    entry.written = this.now();
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxKeys) {
      const oldest = this.oldest.next();
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Marks an entry updated in place as written: it moves to the most recent end at most once a second. */
  private touch(key: string, entry: Entry): void {
    const now = this.now();
    if (now - entry.written < REORDER_AFTER_MS) return;
    entry.written = now;
    this.entries.delete(key);
    this.entries.set(key, entry);
  }
}

/**
 * In-process {@link SharedStateStore}: the default, for one instance and for the demo. Bounded:
 * beyond `maxKeys` the least recently written keys (to within a second) are dropped, and sets
 * keep at most `maxSetSize` members.
 *
 * @publicApi
 */
export class MemorySharedStateStore implements SharedStateStore {
  private readonly state: MemorySharedState;

  constructor(maxKeys = 100_000, maxSetSize = 1_000, now: () => number = Date.now) {
    this.state = new MemorySharedState(maxKeys, maxSetSize, now);
  }

  /**
   * The operations of `store` as the library's own code uses them: answered synchronously when
   * `store` is exactly this class with its own methods, through the store's promises when it
   * is any other store, a subclass, or has a method replaced on the instance or on this class
   * (a spy, a wrapper).
   *
   * @internal
   */
  static accessOf(store: SharedStateStore): SharedStateAccess {
    const memory = ORIGINAL_METHODS;
    // Each method named, not looped over: a property read by a variable name costs more than
    // the rest of a call to the in-process store.
    return Object.getPrototypeOf(store) === MemorySharedStateStore.prototype &&
      store.claimOnce === memory.claimOnce &&
      store.increment === memory.increment &&
      store.get === memory.get &&
      store.set === memory.set &&
      store.addToSet === memory.addToSet &&
      store.hasMember === memory.hasMember &&
      store.pushCapped === memory.pushCapped &&
      store.list === memory.list
      ? (store as MemorySharedStateStore).state
      : store;
  }

  claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    return Promise.resolve(this.state.claimOnce(key, ttlSeconds));
  }

  increment(key: string, windowSeconds: number): Promise<number> {
    return Promise.resolve(this.state.increment(key, windowSeconds));
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.state.get(key));
  }

  set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.state.set(key, value, ttlSeconds);
    return Promise.resolve();
  }

  addToSet(key: string, member: string, ttlSeconds: number): Promise<boolean> {
    return Promise.resolve(this.state.addToSet(key, member, ttlSeconds));
  }

  hasMember(key: string, member: string): Promise<boolean> {
    return Promise.resolve(this.state.hasMember(key, member));
  }

  pushCapped(key: string, value: string, maxLength: number, ttlSeconds: number): Promise<void> {
    this.state.pushCapped(key, value, maxLength, ttlSeconds);
    return Promise.resolve();
  }

  list(key: string): Promise<string[]> {
    return Promise.resolve(this.state.list(key));
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }
}

/** The store's methods as this module defined them: a method replaced later is honoured. */
const defined = MemorySharedStateStore.prototype as unknown as Record<string, unknown>;
const ORIGINAL_METHODS = {
  claimOnce: defined.claimOnce,
  increment: defined.increment,
  get: defined.get,
  set: defined.set,
  addToSet: defined.addToSet,
  hasMember: defined.hasMember,
  pushCapped: defined.pushCapped,
  list: defined.list,
} as const;
