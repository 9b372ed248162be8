import { LRUCache } from 'lru-cache';
import type { Principal } from '../../identity/principal.interface.js';
import { ownValue } from '../../utils/own-keys.js';
import type { RiskReason, RiskSignalInput } from '../risk.types.js';
import { BuiltInSignal, principalKey, storedFields } from './built-in.js';

/** Whether `time` is in a UTC `HH:MM-HH:MM` window (may wrap midnight). @publicApi */
export function inUtcWindow(time: Date, window: string): boolean {
  const [start = 0, end = 0] = window.split('-').map((hhmm) => {
    const [h = '0', m = '0'] = hhmm.split(':');
    return Number(h) * 60 + Number(m);
  });
  const now = time.getUTCHours() * 60 + time.getUTCMinutes();
  if (start === end) return true;
  return start < end ? now >= start && now < end : now >= start || now < end;
}

// Marks in a service's routes set (routes have a space), so they go with the routes: its
// warm-up is over, is being counted.
const WARM = '*warm';
const COUNTING = '*counting';
const WARM_FACT = 'usage:warm';

/** A principal's usage against its own history; only successes are learnt. @internal */
export class UsageSignal extends BuiltInSignal<'usage'> {
  readonly name = 'usage';
  /** Previous minutes known to be folded into their baseline: their count is not read again. */
  private readonly folded = new LRUCache<string, true>({ max: 10_000 });

  async evaluate(input: RiskSignalInput): Promise<RiskReason[]> {
    const principal = input.principal;
    if (principal === undefined) return [];
    const found = await Promise.all([this.rate(input, principal), this.route(input, principal)]);
    const reasons = found.filter((reason) => reason !== undefined);
    const hours = ownValue(this.options.hours, principal.id);
    if (hours !== undefined && !inUtcWindow(input.now, hours))
      reasons.push(
        this.found(this.options.hoursScore, 'activity outside the principal’s working hours'),
      );
    return reasons;
  }

  /** Learns a service's route; while warming up, counts the success (anew with new routes). */
  async record({ principal, context, facts, store }: RiskSignalInput): Promise<void> {
    if (principal === undefined || principal.kind === 'user') return;
    const { ttl, learningRequests } = this.options;
    const routes = principalKey('usage', principal, 'routes');
    await store.addToSet(routes, `${context.method} ${context.route}`, ttl);
    if (facts.get(WARM_FACT) === true) return;
    const counter = principalKey('usage', principal, 'learning');
    const fresh = await store.addToSet(routes, COUNTING, ttl);
    if (fresh) await store.set(counter, '1', ttl);
    const successes = fresh ? 1 : await store.increment(counter, ttl);
    if (successes >= learningRequests) await store.addToSet(routes, WARM, ttl);
  }

  private async rate(
    { store, now }: RiskSignalInput,
    principal: Principal,
  ): Promise<RiskReason | undefined> {
    const minute = Math.floor(now.getTime() / 60_000);
    const key = (suffix: string) => principalKey('usage', principal, suffix);
    const foldKey = key(`f${minute - 1}`);
    const [count, stored, previous] = await Promise.all([
      store.increment(key(`m${minute}`), 180),
      store.get(key('baseline')),
      this.folded.get(foldKey) ? undefined : store.get(key(`m${minute - 1}`)),
    ]);
    const { avg, n } = storedFields(stored);
    let baseline = typeof avg === 'number' && typeof n === 'number' ? { avg, n } : { avg: 0, n: 0 };
    // The first request of a minute folds the previous one in, once across instances.
    if (previous !== undefined) {
      const claimed = await store.claimOnce(foldKey, 180);
      this.folded.set(foldKey, true);
      if (claimed) {
        const value = Number(previous);
        baseline =
          baseline.n === 0
            ? { avg: value, n: 1 }
            : { avg: baseline.avg * 0.8 + value * 0.2, n: baseline.n + 1 };
        await store.set(key('baseline'), JSON.stringify(baseline), this.options.ttl);
      }
    }
    const { learningMinutes, minRate, rateFactor, rateScore } = this.options;
    if (baseline.n < learningMinutes || count <= minRate || count <= baseline.avg * rateFactor)
      return undefined;
    const usual = Math.round(baseline.avg);
    return this.found(
      rateScore,
      `request rate ${count}/min far above the principal’s baseline (${usual}/min)`,
    );
  }

  private async route(
    { context, store, facts }: RiskSignalInput,
    principal: Principal,
  ): Promise<RiskReason | undefined> {
    if (principal.kind === 'user') return undefined;
    const route = `${context.method} ${context.route}`;
    const routes = principalKey('usage', principal, 'routes');
    const [warm, known] = await Promise.all([
      store.hasMember(routes, WARM),
      store.hasMember(routes, route),
    ]);
    facts.set(WARM_FACT, warm);
    if (!warm || known) return undefined;
    return this.found(
      this.options.newRouteScore,
      `the service calls a route it never called (${route})`,
    );
  }
}
