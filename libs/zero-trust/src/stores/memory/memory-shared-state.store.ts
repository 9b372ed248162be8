import { OldestKeys } from '../../utils/oldest-keys.js';
import type { SharedStateStore } from '../shared-state-store.interface.js';

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
 * In-process {@link SharedStateStore}: the default, for one instance and for the demo. Bounded:
 * beyond `maxKeys` the least recently written keys (to within a second) are dropped, and sets
 * keep at most `maxSetSize` members.
 *
 * @publicApi
 */
export class MemorySharedStateStore implements SharedStateStore {
  private readonly entries = new Map<string, Entry>();
  private readonly oldest = new OldestKeys(this.entries);

  constructor(
    private readonly maxKeys = 100_000,
    private readonly maxSetSize = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    if (this.read(key) !== undefined) return Promise.resolve(false);
    this.add(key, { kind: 'value', value: '1', expires: this.expiry(ttlSeconds), written: 0 });
    return Promise.resolve(true);
  }

  increment(key: string, windowSeconds: number): Promise<number> {
    const entry = this.read(key);
    if (entry?.kind === 'value') {
      const count = Number(entry.value) + 1;
      entry.value = String(count);
      this.touch(key, entry);
      return Promise.resolve(count);
    }
    this.add(key, { kind: 'value', value: '1', expires: this.expiry(windowSeconds), written: 0 });
    return Promise.resolve(1);
  }

  get(key: string): Promise<string | undefined> {
    const entry = this.read(key);
    return Promise.resolve(entry?.kind === 'value' ? entry.value : undefined);
  }

  set(key: string, value: string, ttlSeconds: number): Promise<void> {
    const entry = this.read(key);
    if (entry?.kind === 'value') {
      entry.value = value;
      entry.expires = this.expiry(ttlSeconds);
      this.touch(key, entry);
    } else this.add(key, { kind: 'value', value, expires: this.expiry(ttlSeconds), written: 0 });
    return Promise.resolve();
  }

  addToSet(key: string, member: string, ttlSeconds: number): Promise<boolean> {
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
    return Promise.resolve(added);
  }

  hasMember(key: string, member: string): Promise<boolean> {
    const entry = this.read(key);
    return Promise.resolve(entry?.kind === 'set' && entry.members.has(member));
  }

  pushCapped(key: string, value: string, maxLength: number, ttlSeconds: number): Promise<void> {
    const entry = this.read(key);
    const items = entry?.kind === 'list' ? entry.items : [];
    items.unshift(value);
    items.length = Math.min(items.length, Math.max(0, maxLength));
    if (entry?.kind === 'list') {
      entry.expires = this.expiry(ttlSeconds);
      this.touch(key, entry);
    } else this.add(key, { kind: 'list', items, expires: this.expiry(ttlSeconds), written: 0 });
    return Promise.resolve();
  }

  list(key: string): Promise<string[]> {
    const entry = this.read(key);
    return Promise.resolve(entry?.kind === 'list' ? [...entry.items] : []);
  }

  ping(): Promise<void> {
    return Promise.resolve();
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
