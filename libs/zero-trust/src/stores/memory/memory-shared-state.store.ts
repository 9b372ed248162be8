import { StoreFullError } from '../../errors/zero-trust.error.js';
import { OldestKeys } from '../../utils/oldest-keys.js';
import {
  keyClassOf,
  type SharedStateAccess,
  type SharedStateStore,
  type StateKeyClass,
} from '../shared-state-store.interface.js';

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

/**
 * The keys of one class ({@link keyClassOf}) within their own budget. An evicting partition drops
 * its least recently written keys (to within a second) beyond its budget; a refusing one never
 * drops a key before it expires, and refuses a new key while it is full.
 */
class Partition {
  readonly entries = new Map<string, Entry>();
  private readonly oldest = new OldestKeys(this.entries);
  /**
   * Refusing partitions: no entry expires before this time (ms). A full partition sweeps its
   * expired entries only once this has passed, so a refused request costs no scan.
   */
  private earliest = Number.POSITIVE_INFINITY;

  constructor(
    readonly budget: number,
    private readonly evicts: boolean,
  ) {}

  /** Stores a new entry under `key` (not currently in the partition). */
  insert(key: string, entry: Entry, now: number): void {
    if (!this.evicts) {
      if (this.entries.size >= this.budget) this.reclaim(now);
      this.entries.set(key, entry);
      if (entry.expires < this.earliest) this.earliest = entry.expires;
      return;
    }
    this.entries.set(key, entry);
    while (this.entries.size > this.budget) {
      const oldest = this.oldest.next();
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /**
   * Makes room in a full refusing partition by dropping expired entries, or throws.
   *
   * @throws {StoreFullError} when every entry is still live
   */
  private reclaim(now: number): void {
    if (now >= this.earliest) {
      let earliest = Number.POSITIVE_INFINITY;
      for (const [key, entry] of this.entries) {
        if (entry.expires <= now) this.entries.delete(key);
        else if (entry.expires < earliest) earliest = entry.expires;
      }
      this.earliest = earliest;
    }
    if (this.entries.size >= this.budget) {
      const wait = Number.isFinite(this.earliest)
        ? Math.max(1, Math.ceil((this.earliest - now) / 1000))
        : undefined;
      throw new StoreFullError('replay', this.budget, wait);
    }
  }
}

/** The memory store's state and operations, answered synchronously. */
class MemorySharedState implements SharedStateAccess {
  private readonly replay: Partition;
  private readonly addresses: Partition;
  private readonly principals: Partition;

  constructor(
    budgets: { replay: number; addresses: number; principals: number },
    private readonly maxSetSize: number,
    private readonly now: () => number,
  ) {
    this.replay = new Partition(budgets.replay, false);
    this.addresses = new Partition(budgets.addresses, true);
    this.principals = new Partition(budgets.principals, true);
  }

  /** How many keys each class holds now (expired ones not yet dropped included). */
  sizes(): Record<StateKeyClass, number> {
    return {
      replay: this.replay.entries.size,
      address: this.addresses.entries.size,
      principal: this.principals.entries.size,
    };
  }

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

  private partitionOf(key: string): Partition {
    const kind = keyClassOf(key);
    return kind === 'principal'
      ? this.principals
      : kind === 'address'
        ? this.addresses
        : this.replay;
  }

  private read(key: string): Entry | undefined {
    const entries = this.partitionOf(key).entries;
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Puts a new entry (replacing any other under `key`) at the most recent end of its partition.
   *
   * @throws {StoreFullError} a `replay:` key while that partition is full of live entries
   */
  private add(key: string, entry: Entry): void {
    const now = this.now();
    entry.written = now;
    const partition = this.partitionOf(key);
    partition.entries.delete(key);
    partition.insert(key, entry, now);
  }

  /** Marks an entry updated in place as written: it moves to the most recent end at most once a second. */
  private touch(key: string, entry: Entry): void {
    const now = this.now();
    if (now - entry.written < REORDER_AFTER_MS) return;
    entry.written = now;
    const entries = this.partitionOf(key).entries;
    entries.delete(key);
    entries.set(key, entry);
  }
}

/**
 * The budgets of a {@link MemorySharedStateStore}, one per key class ({@link keyClassOf}).
 *
 * @publicApi
 */
export interface MemorySharedStateStoreOptions {
  /**
   * `replay:` keys (DPoP proof `jti`s) held at once. They are never dropped before they expire:
   * while this many are live, a new one is refused with `StoreFullError` (503 `ZT_STORE_FULL`).
   * Size it above the peak rate of DPoP requests times their lifetime (`dpop.iatWindow` +
   * `dpop.clockTolerance`). @default 100_000
   */
  maxReplayKeys?: number;
  /**
   * `addr:` keys (per-address state that unauthenticated requests create); beyond it, the least
   * recently written are dropped. @default 50_000
   */
  maxAddressKeys?: number;
  /**
   * Every other key (per-principal history and counters); beyond it, the least recently written
   * are dropped. Only authenticated requests create them. @default 100_000
   */
  maxPrincipalKeys?: number;
  /** Members kept per set (the oldest added is dropped beyond it). @default 1_000 */
  maxSetSize?: number;
  /** The clock (milliseconds since the epoch). @default Date.now */
  now?: () => number;
}

/**
 * In-process {@link SharedStateStore}: the default, for one instance and for the demo. Each key
 * class ({@link keyClassOf}) has a budget of its own, so per-address state that anonymous
 * traffic creates can never push out per-principal history or replay entries:
 * - `replay:` keys are never dropped before they expire; when their budget is full, a new one is
 *   refused with `StoreFullError` (the request fails closed);
 * - `addr:` keys and every other (principal) key are each bounded: beyond their budget, the least
 *   recently written (to within a second) are dropped.
 *
 * Sets keep at most `maxSetSize` members. The positional form `(maxKeys, maxSetSize, now)` gives
 * both the principal and the address budget as `maxKeys`.
 *
 * @example
 * ```ts
 * new MemorySharedStateStore({ maxReplayKeys: 200_000, maxAddressKeys: 20_000 });
 * ```
 * @publicApi
 */
export class MemorySharedStateStore implements SharedStateStore {
  private readonly state: MemorySharedState;

  constructor(options?: MemorySharedStateStoreOptions);
  constructor(maxKeys?: number, maxSetSize?: number, now?: () => number);
  constructor(
    options: MemorySharedStateStoreOptions | number = {},
    maxSetSize = 1_000,
    now: () => number = Date.now,
  ) {
    const o: MemorySharedStateStoreOptions =
      typeof options === 'number'
        ? { maxAddressKeys: options, maxPrincipalKeys: options, maxSetSize, now }
        : options;
    this.state = new MemorySharedState(
      {
        replay: o.maxReplayKeys ?? 100_000,
        addresses: o.maxAddressKeys ?? 50_000,
        principals: o.maxPrincipalKeys ?? 100_000,
      },
      o.maxSetSize ?? 1_000,
      o.now ?? Date.now,
    );
  }

  /** How many keys of each class the store holds (expired ones not yet dropped included). */
  sizes(): Record<StateKeyClass, number> {
    return this.state.sizes();
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

  // async: a full replay budget throws, and the promise rejects with it instead.
  async claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    return this.state.claimOnce(key, ttlSeconds);
  }

  async increment(key: string, windowSeconds: number): Promise<number> {
    return this.state.increment(key, windowSeconds);
  }

  async get(key: string): Promise<string | undefined> {
    return this.state.get(key);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.state.set(key, value, ttlSeconds);
  }

  async addToSet(key: string, member: string, ttlSeconds: number): Promise<boolean> {
    return this.state.addToSet(key, member, ttlSeconds);
  }

  async hasMember(key: string, member: string): Promise<boolean> {
    return this.state.hasMember(key, member);
  }

  async pushCapped(
    key: string,
    value: string,
    maxLength: number,
    ttlSeconds: number,
  ): Promise<void> {
    this.state.pushCapped(key, value, maxLength, ttlSeconds);
  }

  async list(key: string): Promise<string[]> {
    return this.state.list(key);
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
