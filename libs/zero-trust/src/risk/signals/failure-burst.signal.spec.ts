import { describe, expect, it } from 'vitest';
import { validateOptions } from '../../options/validate-options.js';
import { MemorySharedStateStore } from '../../stores/memory/memory-shared-state.store.js';
import { createRiskSignalInput, createTestPrincipal } from '../../testing/index.js';
import { FailureBurstSignal } from './failure-burst.signal.js';

/** The `risk` option resolved as the module resolves it. */
const riskOptions = (risk: unknown) =>
  validateOptions({ issuer: 'https://issuer.test', audience: 'https://api.test', risk }).risk;

const T0 = new Date('2026-03-02T09:00:00Z').getTime();

describe('FailureBurstSignal', () => {
  const resolved = riskOptions({ failures: { threshold: 3, window: 60 } }).failures ?? {
    window: 0,
    threshold: 0,
    score: 0,
  };
  const alice = createTestPrincipal({ id: 'alice' });

  function setup() {
    let now = T0;
    const store = new MemorySharedStateStore({
      maxAddressKeys: 1000,
      maxPrincipalKeys: 1000,
      maxSetSize: 100,
      now: () => now,
    });
    return {
      store,
      signal: new FailureBurstSignal(resolved),
      move: (seconds: number) => (now = T0 + seconds * 1000),
      input: (ip: string, principal = alice) =>
        createRiskSignalInput({ now: new Date(now), ip, principal, store }),
    };
  }

  it('fires once a principal’s own failures reach the threshold within the window', async () => {
    const { store, signal, input } = setup();
    await signal.count(store, alice);
    await signal.count(store, alice);
    expect(await signal.evaluate(input('192.0.2.1'))).toBeUndefined();
    await signal.count(store, alice);
    expect(await signal.evaluate(input('192.0.2.1'))).toEqual({
      signal: 'failures',
      score: 50,
      reason: '3 failed requests in the last 60 s',
      event: 'authn_fail_burst',
    });
  });

  it('counts per principal across addresses, and never against another principal at one', async () => {
    const { store, signal, input } = setup();
    for (let i = 0; i < 3; i++) await signal.count(store, alice);
    expect(await signal.evaluate(input('192.0.2.9'))).toMatchObject({ score: 50 });
    // bob shares alice's address: her failures are not his.
    const bob = createTestPrincipal({ id: 'bob' });
    expect(await signal.evaluate(input('192.0.2.9', bob))).toBeUndefined();
  });

  it('keeps principals named like Object.prototype members apart', async () => {
    const { store, signal, input } = setup();
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
    for (let i = 0; i < 3; i++) await signal.count(store, createTestPrincipal({ id: 'toString' }));
    const scores: Record<string, number | undefined> = Object.create(null) as Record<
      string,
      number | undefined
    >;
    for (const id of names)
      scores[id] = (await signal.evaluate(input('192.0.2.1', createTestPrincipal({ id }))))?.score;
    expect({ ...scores }).toEqual({
      constructor: undefined,
      ['__proto__']: undefined,
      toString: 50,
      hasOwnProperty: undefined,
      valueOf: undefined,
    });
  });

  it('forgets failures after the window', async () => {
    const { store, signal, input, move } = setup();
    for (let i = 0; i < 3; i++) await signal.count(store, alice);
    move(61);
    expect(await signal.evaluate(input('192.0.2.1'))).toBeUndefined();
  });
});
