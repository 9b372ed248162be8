import type { SharedStateStore } from '../shared-state-store.interface.js';

type Entry =
  | { kind: 'value'; value: string; expires: number }
  | { kind: 'set'; members: Set<string>; expires: number }
  | { kind: 'list'; items: string[]; expires: number };

/**
 * In-process {@link SharedStateStore}: the default, for one instance and for the demo. Bounded:
 * beyond `maxKeys` the least recently written keys are dropped, and sets keep at most
 * `maxSetSize` members.
 *
 * @publicApi
 */
export class MemorySharedStateStore implements SharedStateStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxKeys = 100_000,
    private readonly maxSetSize = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    if (this.read(key) !== undefined) return Promise.resolve(false);
    this.write(key, { kind: 'value', value: '1', expires: this.expiry(ttlSeconds) });
    return Promise.resolve(true);
  }

  increment(key: string, windowSeconds: number): Promise<number> {
    const entry = this.read(key);
    const count = entry?.kind === 'value' ? Number(entry.value) + 1 : 1;
    const expires = entry?.kind === 'value' ? entry.expires : this.expiry(windowSeconds);
    this.write(key, { kind: 'value', value: String(count), expires });
    return Promise.resolve(count);
  }

  get(key: string): Promise<string | undefined> {
    const entry = this.read(key);
    return Promise.resolve(entry?.kind === 'value' ? entry.value : undefined);
  }

  set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.write(key, { kind: 'value', value, expires: this.expiry(ttlSeconds) });
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
    this.write(key, { kind: 'set', members, expires: this.expiry(ttlSeconds) });
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
    this.write(key, { kind: 'list', items, expires: this.expiry(ttlSeconds) });
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

  private write(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}
