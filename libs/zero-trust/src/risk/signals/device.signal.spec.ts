import { describe, expect, it } from 'vitest';
import { validateOptions } from '../../options/validate-options.js';
import { MemorySharedStateStore } from '../../stores/memory/memory-shared-state.store.js';
import { createRiskSignalInput, createTestPrincipal } from '../../testing/index.js';
import { DeviceSignal, deviceFingerprint } from './device.signal.js';

/** The `risk` option resolved as the module resolves it. */
const riskOptions = (risk: unknown) =>
  validateOptions({ issuer: 'https://issuer.test', audience: 'https://api.test', risk }).risk;

const NOW = new Date('2026-03-02T09:00:00Z');
const LAPTOP = { 'user-agent': 'Firefox/140', 'accept-language': 'en-GB' };
const PHONE = { 'user-agent': 'Safari/19 Mobile', 'accept-language': 'en-GB' };

function signal(options: Record<string, unknown> = {}): DeviceSignal {
  const resolved = riskOptions({ device: options }).device;
  if (resolved === undefined) throw new Error('device off');
  return new DeviceSignal(resolved);
}

describe('DeviceSignal', () => {
  const store = (): MemorySharedStateStore =>
    new MemorySharedStateStore({
      maxAddressKeys: 1000,
      maxPrincipalKeys: 1000,
      maxSetSize: 100,
      now: () => NOW.getTime(),
    });

  it('hashes the configured headers into a short fingerprint, never the raw values', () => {
    const print = deviceFingerprint(LAPTOP);
    expect(print).toMatch(/^[\w-]{22}$/);
    expect(print).not.toContain('Firefox');
    expect(deviceFingerprint({ ...LAPTOP, 'x-other': '1' })).toBe(print);
    expect(deviceFingerprint(PHONE)).not.toBe(print);
    expect(deviceFingerprint(LAPTOP, ['user-agent'])).not.toBe(print);
  });

  it('never judges a service or an integration on devices, nor learns theirs', async () => {
    const device = signal();
    const shared = store();
    for (const kind of ['service', 'integration'] as const) {
      const principal = createTestPrincipal({ kind, id: 'billing-worker', token: { device: 'x' } });
      for (const headers of [LAPTOP, PHONE]) {
        const input = createRiskSignalInput({ now: NOW, principal, store: shared, headers });
        expect(await device.evaluate(input)).toEqual([]);
        await device.record(input);
      }
      expect(await shared.hasMember(`zt:risk:device:${kind}:billing-worker`, '*seen')).toBe(false);
    }
  });

  it('learns the first device silently, then scores a device never seen', async () => {
    const device = signal();
    const principal = createTestPrincipal({ id: 'carol' });
    const shared = store();
    const first = createRiskSignalInput({ now: NOW, principal, store: shared, headers: LAPTOP });
    expect(await device.evaluate(first)).toEqual([]);
    await device.record(first);
    const again = createRiskSignalInput({ now: NOW, principal, store: shared, headers: LAPTOP });
    expect(await device.evaluate(again)).toEqual([]);
    const phone = createRiskSignalInput({ now: NOW, principal, store: shared, headers: PHONE });
    expect(await device.evaluate(phone)).toEqual([
      { signal: 'device', score: 25, reason: 'a device never seen for this principal' },
    ]);
    // Another principal's devices are its own.
    const bob = createTestPrincipal({ id: 'bob' });
    const other = createRiskSignalInput({
      now: NOW,
      principal: bob,
      store: shared,
      headers: PHONE,
    });
    expect(await device.evaluate(other)).toEqual([]);
  });

  it('refreshes a known device in the store at most every ttl / 10, and relearns one the store forgot', async () => {
    const device = signal({ ttl: 600 }); // refreshed at most once a minute
    const principal = createTestPrincipal({ id: 'dora' });
    let now = NOW.getTime();
    const shared = new MemorySharedStateStore({
      maxAddressKeys: 1000,
      maxPrincipalKeys: 1000,
      maxSetSize: 100,
      now: () => now,
    });
    const writes: string[] = [];
    const addToSet = shared.addToSet.bind(shared);
    shared.addToSet = (key, member, ttl) => {
      // The device's own writes (not the mark that the principal has a device history).
      if (member !== '*seen') writes.push(key);
      return addToSet(key, member, ttl);
    };
    const request = async (): Promise<void> => {
      const input = createRiskSignalInput({
        now: new Date(now),
        principal,
        store: shared,
        headers: LAPTOP,
      });
      await device.evaluate(input);
      await device.record(input);
    };
    await request(); // learnt
    await request(); // known, learnt just now: no write
    now += 30_000;
    await request(); // still within the minute
    expect(writes).toHaveLength(1);
    now += 31_000;
    await request(); // a minute later: the time to live is refreshed
    expect(writes).toHaveLength(2);
    // The store lost it (flushed): although this instance stored it a moment ago, the next
    // request, which finds it unknown, stores it again.
    const flushed = new MemorySharedStateStore({
      maxAddressKeys: 1000,
      maxPrincipalKeys: 1000,
      maxSetSize: 100,
      now: () => now,
    });
    const input = createRiskSignalInput({
      now: new Date(now),
      principal,
      store: flushed,
      headers: LAPTOP,
    });
    await device.evaluate(input);
    await device.record(input);
    expect(await flushed.hasMember('zt:risk:device:user:dora', deviceFingerprint(LAPTOP))).toBe(
      true,
    );
  });

  it('scores a request from another device than the token was issued to, and never learns it', async () => {
    const device = signal({ mismatchScore: 65 });
    const principal = createTestPrincipal({ token: { device: deviceFingerprint(LAPTOP) } });
    const shared = store();
    const laptop = createRiskSignalInput({ now: NOW, principal, store: shared, headers: LAPTOP });
    expect(await device.evaluate(laptop)).toEqual([]);
    await device.record(laptop);
    const phone = createRiskSignalInput({ now: NOW, principal, store: shared, headers: PHONE });
    const reasons = await device.evaluate(phone);
    expect(reasons[0]).toMatchObject({ score: 65, event: 'session_device_mismatch' });
    await device.record(phone);
    expect(await shared.hasMember('zt:risk:device:user:test-user', deviceFingerprint(PHONE))).toBe(
      false,
    );
  });

  it('uses the DPoP key thumbprint (cnf.jkt) as the device when the token has one', async () => {
    const device = signal();
    const principal = createTestPrincipal({
      token: { cnf: { jkt: 'thumbprint-1' }, device: 'thumbprint-1' },
    });
    const input = createRiskSignalInput({ now: NOW, principal, store: store(), headers: PHONE });
    expect(await device.evaluate(input)).toEqual([]);
    expect(input.facts.get('device')).toBe('thumbprint-1');
  });

  it('says nothing without a principal', async () => {
    expect(await signal().evaluate(createRiskSignalInput({ now: NOW }))).toEqual([]);
  });
});
