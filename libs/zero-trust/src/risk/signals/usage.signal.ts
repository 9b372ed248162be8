import type { Principal } from '../../identity/principal.interface.js';
import type { ResolvedRiskOptions } from '../../options/validate-options.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';
import { LruCache } from '../../utils/lru-cache.js';
import { ownValue } from '../../utils/own-keys.js';
import { principalKey } from './keys.js';

type Options = NonNullable<ResolvedRiskOptions['usage']>;

interface Baseline {
  avg: number;
  n: number;
}

/** Minutes since midnight UTC of a `HH:MM` string. */
function minutesOf(hhmm: string): number {
  const [h = '0', m = '0'] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/**
 * Whether `time` falls in a `HH:MM-HH:MM` window (UTC). A window may wrap midnight
 * (`22:00-06:00`); equal ends mean the whole day.
 *
 * @publicApi
 */
export function inUtcWindow(time: Date, window: string): boolean {
  const [from = '00:00', to = '00:00'] = window.split('-');
  const start = minutesOf(from);
  const end = minutesOf(to);
  const now = time.getUTCHours() * 60 + time.getUTCMinutes();
  if (start === end) return true;
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/**
 * Members of a service's learnt-routes set that are not routes (a route is `METHOD /path`, with a
 * space; these have none). They live in the same key as the routes so that they share their
 * lifetime: whatever removes the routes (expiry, eviction) removes the warm-up's end with them.
 */
const WARM = '*warm';
/** Marks a set that has counted its warm-up (see {@link UsageSignal.record}). */
const COUNTING = '*counting';
/** The fact under which `evaluate` leaves whether the routes were judged (warm). */
const WARM_FACT = 'usage:warm';

/**
 * Usage pattern of a principal against its own history:
 * - request rate: this minute's requests above `rateFactor` × the principal's baseline (an
 *   exponential moving average of its active minutes, after `learningMinutes` of them) and
 *   above `minRate`;
 * - a service or integration calling a route it never called successfully, once
 *   `learningRequests` of its requests succeeded;
 * - a request outside the principal's configured `hours` (UTC).
 *
 * Route novelty never turns a refusal into a lasting one: only successful requests write the
 * learnt routes and the warm-up count (a refused request writes nothing), and the mark that
 * the warm-up is over is kept in the same key as the routes. When that key is gone (expired,
 * evicted, lost with a store), novelty is not judged until a new warm-up is over, instead of
 * every route then looking new to a service that can never again succeed on one to learn it.
 *
 * @publicApi
 */
export class UsageSignal implements RiskSignal {
  readonly name = 'usage';

  /** Fold claims of previous minutes already settled (bounded; a claim lives 180 s). */
  private readonly folded = new LruCache<string, true>(10_000, 180_000);

  constructor(private readonly options: Options) {}

  async evaluate(input: RiskSignalInput): Promise<RiskReason[]> {
    const principal = input.principal;
    if (principal === undefined) return [];
    const found = await Promise.all([this.rate(input, principal), this.route(input, principal)]);
    const reasons = found.filter((reason) => reason !== undefined);
    const hours = ownValue(this.options.hours, principal.id);
    if (hours !== undefined && !inUtcWindow(input.now, hours)) {
      reasons.push({
        signal: this.name,
        score: this.options.hoursScore,
        reason: 'activity outside the principal’s working hours',
      });
    }
    return reasons;
  }

  /**
   * Learns the route of a successful request of a service or integration and, while it is
   * warming up, counts the success. The count restarts whenever the routes' key is new: a
   * count left over from routes that are gone must not end the next warm-up at once.
   */
  async record(input: RiskSignalInput): Promise<void> {
    const principal = input.principal;
    // Nothing to learn for users.
    if (principal === undefined || principal.kind === 'user') return;
    const { ttl, learningRequests } = this.options;
    const store = input.store;
    const routes = principalKey('usage', principal, 'routes');
    await store.addToSet(routes, `${input.context.method} ${input.context.route}`, ttl);
    if (input.facts.get(WARM_FACT) === true) return;
    const counter = principalKey('usage', principal, 'learning');
    const fresh = await store.addToSet(routes, COUNTING, ttl);
    let successes = 1;
    if (fresh) await store.set(counter, '1', ttl);
    else successes = await store.increment(counter, ttl);
    if (successes >= learningRequests) await store.addToSet(routes, WARM, ttl);
  }

  /** A stored baseline; a corrupt one starts over. */
  private parse(stored: string | undefined): Baseline {
    try {
      const parsed = JSON.parse(stored ?? '') as Baseline;
      if (typeof parsed.avg === 'number' && typeof parsed.n === 'number')
        return { avg: parsed.avg, n: parsed.n };
    } catch {
      // absent or corrupt
    }
    return { avg: 0, n: 0 };
  }

  private async rate(
    input: RiskSignalInput,
    principal: Principal,
  ): Promise<RiskReason | undefined> {
    const store = input.store;
    const minute = Math.floor(input.now.getTime() / 60_000);
    const baselineKey = principalKey('usage', principal, 'baseline');
    const foldKey = principalKey('usage', principal, `f${minute - 1}`);
    // Once the previous minute is known to be folded (claimed here or by another instance), the
    // previous minute's count is not read again.
    const folded = this.folded.get(foldKey) === true;
    const [count, stored, previous] = await Promise.all([
      store.increment(principalKey('usage', principal, `m${minute}`), 180),
      store.get(baselineKey),
      folded ? undefined : store.get(principalKey('usage', principal, `m${minute - 1}`)),
    ]);
    const baseline = this.parse(stored);
    if (previous === undefined) return this.judge(count, baseline);
    // Fold the previous minute into the baseline once (the first request of this minute does).
    const claimed = await store.claimOnce(foldKey, 180);
    // Claimed now or before: either way the fold of that minute is done for good.
    this.folded.set(foldKey, true);
    if (!claimed) return this.judge(count, baseline);
    const value = Number(previous);
    const next =
      baseline.n === 0
        ? { avg: value, n: 1 }
        : { avg: baseline.avg * 0.8 + value * 0.2, n: baseline.n + 1 };
    await store.set(baselineKey, JSON.stringify(next), this.options.ttl);
    return this.judge(count, next);
  }

  /** A service or integration calling a route it never called successfully, once warm. */
  private async route(
    input: RiskSignalInput,
    principal: Principal,
  ): Promise<RiskReason | undefined> {
    if (principal.kind === 'user') return undefined;
    const route = `${input.context.method} ${input.context.route}`;
    const routes = principalKey('usage', principal, 'routes');
    const [warm, known] = await Promise.all([
      input.store.hasMember(routes, WARM),
      input.store.hasMember(routes, route),
    ]);
    input.facts.set(WARM_FACT, warm);
    if (!warm || known) return undefined;
    return {
      signal: this.name,
      score: this.options.newRouteScore,
      reason: `the service calls a route it never called (${route})`,
    };
  }

  /** This minute's `count` against the principal's `baseline`. */
  private judge(count: number, baseline: Baseline): RiskReason | undefined {
    if (baseline.n < this.options.learningMinutes) return undefined;
    if (count <= this.options.minRate || count <= baseline.avg * this.options.rateFactor)
      return undefined;
    return {
      signal: this.name,
      score: this.options.rateScore,
      reason: `request rate ${count}/min far above the principal’s baseline (${Math.round(baseline.avg)}/min)`,
    };
  }
}
