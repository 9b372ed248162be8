import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createRiskSignalInput, createTestPrincipal } from '../../testing/index.js';
import { MemorySharedStateStore } from '../../stores/memory/memory-shared-state.store.js';
import { validateOptions } from '../../options/validate-options.js';
import { haversineKm, MaxMindGeoLocator, type GeoLocator } from './geo-locator.js';
import { GeolocationSignal } from './geolocation.signal.js';

/** The `risk` option resolved as the module resolves it. */
const riskOptions = (risk: unknown) =>
  validateOptions({ issuer: 'https://issuer.test', audience: 'https://api.test', risk }).risk;

const DATABASE = fileURLToPath(
  new URL('../../../../../apps/demo-api/data/GeoLite2-City-Test.mmdb', import.meta.url),
);
const LONDON = '81.2.69.142';
const CHANGCHUN = '175.16.199.7';
const LINKOPING = '89.160.20.115';
const T0 = new Date('2026-03-02T09:00:00Z');

function optionsOf(geolocation: Record<string, unknown>) {
  const resolved = riskOptions({ geolocation }).geolocation;
  if (resolved === undefined) throw new Error('geolocation off');
  return resolved;
}

describe('GeolocationSignal', () => {
  let locator: MaxMindGeoLocator;
  const alice = createTestPrincipal({ id: 'alice' });

  beforeAll(async () => {
    locator = await MaxMindGeoLocator.open(DATABASE);
  });

  /** A store and a clock shared by consecutive requests. */
  function session() {
    let now = T0;
    const store = new MemorySharedStateStore({
      maxAddressKeys: 1000,
      maxPrincipalKeys: 1000,
      maxSetSize: 100,
      now: () => now.getTime(),
    });
    return {
      store,
      at: (minutes: number, ip: string) => {
        now = new Date(T0.getTime() + minutes * 60_000);
        return createRiskSignalInput({ now, ip, principal: alice, store });
      },
    };
  }

  it('never turns a damaged database into "unknown place": the failure propagates', () => {
    const damaged = Reflect.construct(
      MaxMindGeoLocator as unknown as new (reader: object) => MaxMindGeoLocator,
      [
        {
          city: () => {
            throw new Error('damaged search tree');
          },
        },
      ],
    );
    expect(() => damaged.locate('81.2.69.142')).toThrow('damaged search tree');
    // an address the database does not hold is simply not located
    expect(locator.locate('198.51.100.1')).toBeUndefined();
  });

  it('reads London and Changchun from the MaxMind test database', () => {
    expect(locator.locate(LONDON)).toMatchObject({ country: 'GB', city: 'London' });
    expect(locator.locate(CHANGCHUN)).toMatchObject({ country: 'CN', city: 'Changchun' });
    expect(locator.locate('10.1.2.3')).toBeUndefined();
    expect(locator.locate('not an address')).toBeUndefined();
  });

  it('answers unrouted addresses and database misses without a lookup the second time, in a bounded cache', async () => {
    const fresh = await MaxMindGeoLocator.open(DATABASE);
    const city = vi.spyOn(
      (fresh as unknown as { reader: { city(ip: string): unknown } }).reader,
      'city',
    );
    try {
      for (const ip of [
        '127.0.0.1',
        '::1',
        '::ffff:127.0.0.1',
        '192.168.1.9',
        'fd00::1',
        'fe80::1',
      ])
        expect(fresh.locate(ip)).toBeUndefined();
      expect(city).not.toHaveBeenCalled();
      expect(fresh.locate('8.8.8.8')).toBeUndefined(); // not in the test database
      expect(fresh.locate('8.8.8.8')).toBeUndefined();
      expect(fresh.locate(LONDON)).toMatchObject({ country: 'GB' });
      expect(fresh.locate(LONDON)).toMatchObject({ country: 'GB' });
      expect(city).toHaveBeenCalledTimes(2);
      for (let i = 0; i < 10_050; i++) fresh.locate(`172.16.${i >> 8}.${i & 255}`);
      expect((Reflect.get(fresh, 'cache') as Map<string, unknown>).size).toBe(10_000);
    } finally {
      city.mockRestore();
    }
  });

  it('computes great-circle distances (London–Changchun about 8,180 km)', () => {
    expect(haversineKm(51.5142, -0.0931, 43.88, 125.3228)).toBeGreaterThan(8100);
    expect(haversineKm(51.5142, -0.0931, 43.88, 125.3228)).toBeLessThan(8250);
    expect(haversineKm(10, 10, 10, 10)).toBe(0);
  });

  it('flags impossible travel: London then Changchun ten minutes later', async () => {
    const signal = new GeolocationSignal(optionsOf({ database: DATABASE }), locator);
    const { at } = session();
    const london = at(0, LONDON);
    expect(await signal.evaluate(london)).toEqual([]);
    await signal.record(london);
    const changchun = at(10, CHANGCHUN);
    const reasons = await signal.evaluate(changchun);
    expect(reasons).toEqual([
      expect.objectContaining({
        signal: 'geolocation',
        score: 60,
        event: 'authn_impossible_travel',
        reason: expect.stringMatching(
          /^impossible travel from London \(GB\) to Changchun \(CN\): 81\d\d km in 10 min$/,
        ) as string,
      }),
    ]);
    expect(changchun.facts.get('country')).toBe('CN');
  });

  it('never judges a service that proved its key on geography; a bearer service still is', async () => {
    const signal = new GeolocationSignal(
      optionsOf({ database: DATABASE, denyCountries: ['CN'] }),
      locator,
    );
    const store = new MemorySharedStateStore({
      maxAddressKeys: 1000,
      maxPrincipalKeys: 1000,
      maxSetSize: 100,
      now: () => T0.getTime(),
    });
    const bound = createTestPrincipal({
      kind: 'service',
      id: 'billing-worker',
      token: { cnf: { jkt: 'key' } },
    });
    const trip = async (principal: typeof bound, proven: boolean) => {
      const found = [];
      for (const [minutes, ip] of [
        [0, LONDON],
        [10, CHANGCHUN],
      ] as const) {
        const input = createRiskSignalInput({
          now: new Date(T0.getTime() + minutes * 60_000),
          ip,
          principal,
          store,
        });
        if (proven) input.context.dpop = { jkt: 'key' };
        found.push(await signal.evaluate(input));
        await signal.record(input);
      }
      return found;
    };
    expect(await trip(bound, true)).toEqual([[], []]);
    const bearer = createTestPrincipal({ kind: 'service', id: 'reporting-service' });
    const [, changchun] = await trip(bearer, false);
    // A denied country, and an impossible trip.
    expect(changchun?.map((reason) => reason.score)).toEqual([100, 60]);
  });

  it('accepts the same trip after a long enough time (below 900 km/h)', async () => {
    const signal = new GeolocationSignal(optionsOf({ database: DATABASE }), locator);
    const { at } = session();
    const london = at(0, LONDON);
    await signal.evaluate(london);
    await signal.record(london);
    expect(await signal.evaluate(at(12 * 60, CHANGCHUN))).toEqual([]);
  });

  it('ignores moves under the minimum distance, however fast', async () => {
    const points: Record<string, { latitude: number; longitude: number; country: string }> = {
      a: { latitude: 48.85, longitude: 2.35, country: 'FR' },
      b: { latitude: 48.9, longitude: 2.7, country: 'FR' }, // about 26 km away
    };
    const nearby: GeoLocator = { locate: (ip) => points[ip] };
    const signal = new GeolocationSignal(optionsOf({ database: nearby }), nearby);
    const { at } = session();
    const first = at(0, 'a');
    await signal.evaluate(first);
    await signal.record(first);
    expect(await signal.evaluate(at(1, 'b'))).toEqual([]);
  });

  it('applies country deny and allow lists', async () => {
    const deny = new GeolocationSignal(
      optionsOf({ database: DATABASE, denyCountries: ['CN'] }),
      locator,
    );
    expect(await deny.evaluate(createRiskSignalInput({ ip: CHANGCHUN, now: T0 }))).toEqual([
      expect.objectContaining({ score: 100, reason: 'request from a denied country (CN)' }),
    ]);
    const allow = new GeolocationSignal(
      optionsOf({ database: DATABASE, allowCountries: ['GB'], countryScore: 50 }),
      locator,
    );
    expect(await allow.evaluate(createRiskSignalInput({ ip: LONDON, now: T0 }))).toEqual([]);
    expect(await allow.evaluate(createRiskSignalInput({ ip: LINKOPING, now: T0 }))).toEqual([
      expect.objectContaining({ score: 50, reason: 'request from a country not allowed (SE)' }),
    ]);
  });

  it('says nothing about unknown addresses and learns nothing from them', async () => {
    const signal = new GeolocationSignal(optionsOf({ database: DATABASE }), locator);
    const { at, store } = session();
    const input = at(0, '10.0.0.1');
    expect(await signal.evaluate(input)).toEqual([]);
    await signal.record(input);
    expect(await store.get('zt:risk:geo:user:alice')).toBeUndefined();
  });

  it('rewrites the last location of a principal staying put at most once a second, and at once when it moves', async () => {
    const signal = new GeolocationSignal(optionsOf({ database: DATABASE }), locator);
    let now = T0.getTime();
    const store = new MemorySharedStateStore({
      maxAddressKeys: 1000,
      maxPrincipalKeys: 1000,
      maxSetSize: 100,
      now: () => now,
    });
    const writes: string[] = [];
    const set = store.set.bind(store);
    store.set = (key, value, ttl) => {
      writes.push(value);
      return set(key, value, ttl);
    };
    const request = async (ms: number, ip: string) => {
      now = T0.getTime() + ms;
      const input = createRiskSignalInput({ now: new Date(now), ip, principal: alice, store });
      const reasons = await signal.evaluate(input);
      await signal.record(input);
      return reasons;
    };
    // A burst from London: written on the first request, then again once a second has passed.
    for (const ms of [0, 200, 400, 999]) expect(await request(ms, LONDON)).toEqual([]);
    expect(writes).toHaveLength(1);
    await request(1000, LONDON);
    expect(writes).toHaveLength(2);
    expect(JSON.parse(writes[1] as string)).toMatchObject({ t: T0.getTime() + 1000 });
    // Linköping, 1,400 km away, 100 ms later: impossible, and learnt at once if it succeeds.
    expect(await request(1100, LINKOPING)).toEqual([
      expect.objectContaining({ event: 'authn_impossible_travel' }),
    ]);
    expect(writes).toHaveLength(3);
    expect(JSON.parse(writes[2] as string)).toMatchObject({ place: expect.stringContaining('SE') });
    // Back in London 200 ms later: the trip from Linköping is measured from its own time.
    expect(await request(1300, LONDON)).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/^impossible travel from Link/) }),
    ]);
  });

  it('ignores a damaged stored location', async () => {
    const signal = new GeolocationSignal(optionsOf({ database: DATABASE }), locator);
    const { at, store } = session();
    for (const damaged of ['{not json', '{"lat":"51","lon":0,"t":0}', 'null']) {
      await store.set('zt:risk:geo:user:alice', damaged, 60);
      expect(await signal.evaluate(at(0, CHANGCHUN))).toEqual([]);
    }
  });
});
