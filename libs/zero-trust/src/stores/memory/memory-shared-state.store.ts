import { LRUCache } from 'lru-cache';
import {
  keyClassOf,
  type SharedStateStore,
  type StateKeyClass,
} from '../shared-state-store.interface.js';
import { LiveEntries } from './live-entries.js';

type Entry = { expires: number; value: string | Set<string> | string[] };

/** The budgets of a {@link MemorySharedStateStore}, one per key class. @internal */
export interface MemorySharedStateStoreOptions {
  /** Live `replay:` keys; beyond, a new one throws `StoreFullError`. @default 100_000 */
  maxReplayKeys?: number;
  /** `addr:` keys; beyond, the least recently used are dropped. @default 50_000 */
  maxAddressKeys?: number;
  /** Every other key; beyond, the least recently used are dropped. @default 100_000 */
  maxPrincipalKeys?: number;
  /** Members kept per set (the oldest added is dropped beyond it). @default 1_000 */
  maxSetSize?: number;
  /** The clock (milliseconds since the epoch). @default Date.now */
  now?: () => number;
}

/**
 * In-process {@link SharedStateStore}: the default, for one instance. Each key class has its own
 * budget, so anonymous traffic never pushes out principal state or replay entries: `replay:`
 * keys are never dropped before they expire, the others are each an LRU. @internal
 */
export class MemorySharedStateStore implements SharedStateStore {
  private readonly partitions;
  private readonly maxSetSize: number;
  private readonly now: () => number;

  constructor(o: MemorySharedStateStoreOptions = {}) {
    this.partitions = {
      replay: new LiveEntries<Entry>(o.maxReplayKeys ?? 100_000, 'replay', 1000),
      address: new LRUCache<string, Entry>({ max: o.maxAddressKeys ?? 50_000 }),
      principal: new LRUCache<string, Entry>({ max: o.maxPrincipalKeys ?? 100_000 }),
    };
    this.maxSetSize = o.maxSetSize ?? 1_000;
    this.now = o.now ?? Date.now;
  }

  /** How many keys of each class the store holds (expired ones not yet dropped included). */
  sizes(): Record<StateKeyClass, number> {
    const { replay, address, principal } = this.partitions;
    return { replay: replay.size, address: address.size, principal: principal.size };
  }

  async claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    if (this.read(key) !== undefined) return false;
    this.write(key, { value: '1', expires: this.expiry(ttlSeconds) });
    return true;
  }

  async increment(key: string, windowSeconds: number): Promise<number> {
    const entry = this.read(key);
    // The window starts at the first increment: a later one keeps its expiry.
    const counter = typeof entry?.value === 'string' ? entry : undefined;
    const count = counter ? Number(counter.value) + 1 : 1;
    const expires = counter?.expires ?? this.expiry(windowSeconds);
    this.write(key, { value: String(count), expires });
    return count;
  }

  async get(key: string): Promise<string | undefined> {
    const value = this.read(key)?.value;
    return typeof value === 'string' ? value : undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.write(key, { value, expires: this.expiry(ttlSeconds) });
  }

  async addToSet(key: string, member: string, ttlSeconds: number): Promise<boolean> {
    const value = this.read(key)?.value;
    const members = value instanceof Set ? value : new Set<string>();
    const added = !members.has(member);
    if (added) {
      members.add(member);
      // A Set iterates in insertion order: the first member is the oldest.
      if (members.size > this.maxSetSize) members.delete(members.values().next().value as string);
    }
    this.write(key, { value: members, expires: this.expiry(ttlSeconds) });
    return added;
  }

  async hasMember(key: string, member: string): Promise<boolean> {
    const value = this.read(key)?.value;
    return value instanceof Set && value.has(member);
  }

  async pushCapped(
    key: string,
    value: string,
    maxLength: number,
    ttlSeconds: number,
  ): Promise<void> {
    const current = this.read(key)?.value;
    const items = Array.isArray(current) ? current : [];
    items.unshift(value);
    items.length = Math.min(items.length, Math.max(0, maxLength));
    this.write(key, { value: items, expires: this.expiry(ttlSeconds) });
  }

  async list(key: string): Promise<string[]> {
    const value = this.read(key)?.value;
    return Array.isArray(value) ? [...value] : [];
  }

  async ping(): Promise<void> {}

  private expiry(ttlSeconds: number): number {
    return this.now() + ttlSeconds * 1000;
  }

  private read(key: string): Entry | undefined {
    const partition = this.partitions[keyClassOf(key)];
    const entry = partition.get(key);
    if (entry === undefined || entry.expires > this.now()) return entry;
    partition.delete(key);
    return undefined;
  }

  // Throws StoreFullError for a new `replay:` key while that partition is full of live entries.
  private write(key: string, entry: Entry): void {
    const kind = keyClassOf(key);
    if (kind === 'replay') this.partitions.replay.add(key, entry, this.now());
    else this.partitions[kind].set(key, entry);
  }
}
