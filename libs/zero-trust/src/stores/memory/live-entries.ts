import { StoreFullError } from '../../errors/zero-trust.error.js';

/** Entries never dropped before they expire: past `budget` live ones, new keys throw. @internal */
export class LiveEntries<V extends { expires: number }> extends Map<string, V> {
  /** No entry expires before this time. */
  private earliest = Number.POSITIVE_INFINITY;

  /** @param unit - clock units in a second (1000 for milliseconds) */
  constructor(
    private readonly budget: number,
    private readonly concern: 'replay' | 'revocation',
    private readonly unit: number,
  ) {
    super();
  }

  /** @throws {StoreFullError} a new key while `budget` entries are live */
  add(key: string, entry: V, now: number): void {
    if (!this.has(key) && this.size >= this.budget) {
      this.sweep(now);
      if (this.size >= this.budget) {
        const wait = Number.isFinite(this.earliest)
          ? Math.max(1, Math.ceil((this.earliest - now) / this.unit))
          : undefined;
        throw new StoreFullError(this.concern, this.budget, wait);
      }
    }
    this.earliest = Math.min(this.earliest, entry.expires);
    this.set(key, entry);
  }

  /** Drops the entries expired at `now`. */
  sweep(now: number): void {
    if (now < this.earliest) return;
    this.earliest = Number.POSITIVE_INFINITY;
    for (const [key, { expires }] of this) {
      if (expires <= now) this.delete(key);
      else this.earliest = Math.min(this.earliest, expires);
    }
  }
}
