import { describe, expect, it, vi } from 'vitest';
import { validateOptions } from '../../options/validate-options.js';
import { MemorySharedStateStore } from '../../stores/memory/memory-shared-state.store.js';
import { createRiskSignalInput, createTestPrincipal } from '../../testing/index.js';
import { principalKey } from './built-in.js';
import { inUtcWindow, UsageSignal } from './usage.signal.js';

/** The `risk` option resolved as the module resolves it. */
const riskOptions = (risk: unknown) =>
  validateOptions({ issuer: 'https://issuer.test', audience: 'https://api.test', risk }).risk;

const T0 = new Date('2026-03-02T09:00:00Z');

function signal(options: Record<string, unknown> = {}): UsageSignal {
  const resolved = riskOptions({ usage: options }).usage;
  if (resolved === undefined) throw new Error('usage off');
  return new UsageSignal(resolved);
}

/** Requests of one principal on a shared store whose clock the test moves. */
function traffic(principal = createTestPrincipal({ id: 'alice' })) {
  let now = T0;
  const store = new MemorySharedStateStore({
    maxAddressKeys: 10_000,
    maxPrincipalKeys: 10_000,
    maxSetSize: 1000,
    now: () => now.getTime(),
  });
  return {
    store,
    at: (minutes: number, extra: { method?: string; route?: string } = {}) => {
      now = new Date(T0.getTime() + minutes * 60_000);
      return createRiskSignalInput({ now, principal, store, ...extra });
    },
  };
}

function minuteOf(minutes: number): number {
  return Math.floor(T0.getTime() / 60_000) + minutes;
}

function baselineKeyOf(id: string): string {
  return `zt:risk:usage:user:${id}:baseline`;
}

describe('inUtcWindow', () => {
  it.each([
    ['08:00-18:00', '2026-03-02T08:00:00Z', true],
    ['08:00-18:00', '2026-03-02T17:59:00Z', true],
    ['08:00-18:00', '2026-03-02T18:00:00Z', false],
    ['08:00-18:00', '2026-03-02T07:59:00Z', false],
    ['22:00-06:00', '2026-03-02T23:30:00Z', true],
    ['22:00-06:00', '2026-03-02T05:00:00Z', true],
    ['22:00-06:00', '2026-03-02T12:00:00Z', false],
    ['00:00-00:00', '2026-03-02T12:00:00Z', true],
  ])('%s at %s: %s', (window, time, expected) => {
    expect(inUtcWindow(new Date(time), window)).toBe(expected);
  });
});

describe('UsageSignal', () => {
  it('folds the previous minute once, then stops reading it for the rest of the minute', async () => {
    const usage = signal();
    const { store, at } = traffic();
    await usage.evaluate(at(0));
    const get = vi.spyOn(store, 'get');
    const claim = vi.spyOn(store, 'claimOnce');
    for (let i = 0; i < 5; i++) await usage.evaluate(at(1));
    // The previous minute is read and claimed by the first request of the minute only.
    expect(claim).toHaveBeenCalledTimes(1);
    expect(get.mock.calls.filter(([key]) => key.endsWith(':m' + minuteOf(0)))).toHaveLength(1);
    expect(await store.get(baselineKeyOf('alice'))).toBe(JSON.stringify({ avg: 1, n: 1 }));
  });

  it('flags a request rate far above the principal’s own baseline, after learning', async () => {
    const usage = signal({ minRate: 10, rateFactor: 4, learningMinutes: 3 });
    const { at } = traffic();
    // Three quiet minutes (2 requests each) make the baseline.
    for (let minute = 0; minute < 4; minute++) {
      for (let i = 0; i < 2; i++) expect(await usage.evaluate(at(minute))).toEqual([]);
    }
    // A burst in minute 4: quiet up to 10 per minute, flagged from the 11th.
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await usage.evaluate(at(4)));
    expect(results.slice(0, 10).every((r) => r.length === 0)).toBe(true);
    expect(results[10]).toEqual([
      expect.objectContaining({
        signal: 'usage',
        score: 30,
        reason: expect.stringContaining('11/min') as string,
      }),
    ]);
  });

  it('does not judge the rate during the learning period', async () => {
    const usage = signal({ minRate: 1, learningMinutes: 5 });
    const { at } = traffic();
    for (let i = 0; i < 50; i++) expect(await usage.evaluate(at(0))).toEqual([]);
  });

  it('flags a service calling a route it never called, once it has learnt', async () => {
    const usage = signal({ learningRequests: 3, newRouteScore: 45 });
    const service = createTestPrincipal({ kind: 'service', id: 'reporting-service' });
    const { at } = traffic(service);
    for (let i = 0; i < 3; i++) {
      const input = at(i, { method: 'GET', route: '/reports' });
      expect(await usage.evaluate(input)).toEqual([]);
      await usage.record(input);
    }
    expect(await usage.evaluate(at(4, { method: 'GET', route: '/reports' }))).toEqual([]);
    expect(await usage.evaluate(at(5, { method: 'DELETE', route: '/invoices/:id' }))).toEqual([
      {
        signal: 'usage',
        score: 45,
        reason: 'the service calls a route it never called (DELETE /invoices/:id)',
      },
    ]);
  });

  it('counts only successes toward the warm-up: refused requests write nothing it reads', async () => {
    const usage = signal({ learningRequests: 2 });
    const service = createTestPrincipal({ kind: 'service', id: 'billing-worker' });
    const { at } = traffic(service);
    const known = at(0, { method: 'GET', route: '/a' });
    await usage.evaluate(known);
    await usage.record(known);
    // Any number of requests that were refused (evaluated, never recorded) end nothing.
    for (let i = 0; i < 10; i++) await usage.evaluate(at(1, { method: 'GET', route: '/b' }));
    const learning = at(2, { method: 'GET', route: '/a' });
    expect(await usage.evaluate(learning)).toEqual([]);
    await usage.record(learning);
    // Two successes: warm; /b, only ever refused, is new.
    expect(await usage.evaluate(at(3, { method: 'GET', route: '/b' }))).toMatchObject([
      { score: 50 },
    ]);
    expect(await usage.evaluate(at(3, { method: 'GET', route: '/a' }))).toEqual([]);
  });

  it('starts a new warm-up when the learnt routes are gone, whatever count is left over', async () => {
    const usage = signal({ learningRequests: 3 });
    const service = createTestPrincipal({ kind: 'service', id: 'billing-worker' });
    const { store, at } = traffic(service);
    // What a lost route set leaves behind: a count far past the warm-up.
    await store.set(principalKey('usage', service, 'learning'), '1000', 3600);
    for (const route of ['/a', '/b']) {
      const input = at(0, { method: 'GET', route });
      expect(await usage.evaluate(input)).toEqual([]);
      await usage.record(input);
    }
    // Two successes since the routes were new: still learning, /c is not judged.
    expect(await usage.evaluate(at(1, { method: 'GET', route: '/c' }))).toEqual([]);
    const third = at(1, { method: 'GET', route: '/a' });
    await usage.evaluate(third);
    await usage.record(third);
    expect(await usage.evaluate(at(2, { method: 'GET', route: '/c' }))).toMatchObject([
      { score: 50 },
    ]);
  });

  it('reads the hours of principals named like Object.prototype members as any other', async () => {
    const usage = signal({ hours: { toString: '10:00-18:00' } });
    for (const id of ['constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const { at } = traffic(createTestPrincipal({ id }));
      expect(await usage.evaluate(at(0))).toEqual([]);
    }
    const { at } = traffic(createTestPrincipal({ id: 'toString' }));
    expect(await usage.evaluate(at(0))).toMatchObject([{ score: 30 }]);
  });

  it('never judges users on routes', async () => {
    const usage = signal({ learningRequests: 0 });
    const { at } = traffic();
    expect(await usage.evaluate(at(0, { route: '/anything' }))).toEqual([]);
  });

  it('flags activity outside a principal’s configured hours (UTC)', async () => {
    const usage = signal({ hours: { alice: '10:00-18:00' } });
    const { at } = traffic();
    expect(await usage.evaluate(at(0))).toEqual([
      expect.objectContaining({
        score: 30,
        reason: 'activity outside the principal’s working hours',
      }),
    ]);
    expect(await usage.evaluate(at(90))).toEqual([]);
  });
});
