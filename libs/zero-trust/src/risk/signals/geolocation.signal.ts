import type { Principal } from '../../identity/principal.interface.js';
import type { ResolvedRiskOptions } from '../../options/validate-options.js';
import { MemorySharedStateStore } from '../../stores/memory/memory-shared-state.store.js';
import { after, type Eventually } from '../../utils/eventually.js';
import { LruCache } from '../../utils/lru-cache.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';
import { haversineKm, type GeoLocation, type GeoLocator } from './geo-locator.js';
import { principalKey } from './keys.js';
import { isProvenWorkload } from './workload.js';

type Options = NonNullable<ResolvedRiskOptions['geolocation']>;

interface LastLocation {
  lat: number;
  lon: number;
  t: number;
  place: string;
}

/**
 * A principal seen again at the place it was last stored, within this many milliseconds of that
 * time, leaves the stored location as it is: a burst of requests from one place writes it once
 * a second, not once per request. The travel check then measures from up to a second earlier
 * than the true last request, which never hides a trip that is impossible over minutes.
 */
const REWRITE_AFTER_MS = 1000;

/** The fact under which a request keeps the location it read, for {@link GeolocationSignal.record}. */
const PREVIOUS = 'geolocation:previous';

/** A location with coordinates: what the travel check needs. */
type Located = GeoLocation & { latitude: number; longitude: number };

function placeOf(location: GeoLocation): string {
  const country = location.country ?? '??';
  return location.city === undefined ? country : `${location.city} (${country})`;
}

/**
 * Geolocation of the client address: countries outside the allow list or in the deny list, and
 * impossible travel (the principal's previous location is too far away for the time elapsed:
 * faster than `maxSpeedKmh`, ignoring moves under `minDistanceKm`). The last location is learnt
 * from successful requests only. Puts `country`, `city`, `latitude`, `longitude` in the facts.
 *
 * A service or integration that proved its key on the request (mTLS, a certificate-bound or
 * DPoP-bound token) is not judged on geography at all; one with a plain bearer token is (a
 * bearer token works for whoever holds it, so where it comes from is evidence).
 *
 * @publicApi
 */
export class GeolocationSignal implements RiskSignal {
  readonly name = 'geolocation';
  /** Stored last locations by their text, parsed once (bounded): the same text comes back. */
  private readonly parsed = new LruCache<string, LastLocation | null>(10_000, 10 * 60_000);

  constructor(
    private readonly options: Options,
    private readonly locator: GeoLocator,
  ) {}

  evaluate(input: RiskSignalInput): Eventually<RiskReason[]> {
    const ip = input.context.ip;
    if (ip === undefined || isProvenWorkload(input.principal, input.context)) return [];
    const located = this.locator.locate(ip);
    // The built-in locator answers synchronously: no promise unless the travel check reads the store.
    return after(located, (location) => this.assess(input, location));
  }

  private assess(
    input: RiskSignalInput,
    location: GeoLocation | undefined,
  ): Eventually<RiskReason[]> {
    if (location === undefined) return [];
    const { facts } = input;
    if (location.country !== undefined) facts.set('country', location.country);
    if (location.city !== undefined) facts.set('city', location.city);
    if (location.latitude !== undefined) facts.set('latitude', location.latitude);
    if (location.longitude !== undefined) facts.set('longitude', location.longitude);
    const reasons: RiskReason[] = [];
    const country = location.country;
    if (country !== undefined) {
      const { allowCountries, denyCountries } = this.options;
      if (denyCountries.includes(country))
        reasons.push({
          signal: this.name,
          score: this.options.countryScore,
          reason: `request from a denied country (${country})`,
        });
      else if (allowCountries !== undefined && !allowCountries.includes(country))
        reasons.push({
          signal: this.name,
          score: this.options.countryScore,
          reason: `request from a country not allowed (${country})`,
        });
    }
    const principal = input.principal;
    if (
      principal === undefined ||
      location.latitude === undefined ||
      location.longitude === undefined
    )
      return reasons;
    return after(this.travel(input, principal, location as Located), (travel) => {
      if (travel !== undefined) reasons.push(travel);
      return reasons;
    });
  }

  /** Remembers where a principal was when a request succeeded. */
  record(input: RiskSignalInput): Eventually<void> {
    const lat = input.facts.get('latitude');
    const lon = input.facts.get('longitude');
    if (input.principal === undefined || typeof lat !== 'number' || typeof lon !== 'number')
      return undefined;
    const t = input.now.getTime();
    const place = placeOf({
      country: input.facts.get('country') as string | undefined,
      city: input.facts.get('city') as string | undefined,
    });
    const previous = input.facts.get(PREVIOUS) as LastLocation | undefined;
    if (
      previous !== undefined &&
      previous.lat === lat &&
      previous.lon === lon &&
      previous.place === place &&
      t >= previous.t &&
      t - previous.t < REWRITE_AFTER_MS
    )
      return undefined;
    const last: LastLocation = { lat, lon, t, place };
    return MemorySharedStateStore.accessOf(input.store).set(
      principalKey('geo', input.principal),
      JSON.stringify(last),
      this.options.ttl,
    );
  }

  private travel(
    input: RiskSignalInput,
    principal: Principal,
    here: Located,
  ): Eventually<RiskReason | undefined> {
    const stored = MemorySharedStateStore.accessOf(input.store).get(principalKey('geo', principal));
    return after(stored, (text) => {
      const last = text === undefined ? undefined : this.parse(text);
      if (last === undefined) return undefined;
      input.facts.set(PREVIOUS, last);
      return this.judge(input, last, here);
    });
  }

  /** A stored last location, parsed once per distinct text; undefined when damaged. */
  private parse(text: string): LastLocation | undefined {
    let last = this.parsed.get(text);
    if (last === undefined) {
      last = null;
      try {
        const value = JSON.parse(text) as Partial<LastLocation> | null;
        if (
          typeof value?.lat === 'number' &&
          typeof value.lon === 'number' &&
          typeof value.t === 'number'
        )
          last = {
            lat: value.lat,
            lon: value.lon,
            t: value.t,
            place: typeof value.place === 'string' ? value.place : 'an unknown place',
          };
      } catch {
        // a damaged location is ignored
      }
      this.parsed.set(text, last);
    }
    return last ?? undefined;
  }

  /** Whether reaching `here` from `last` by now is impossible. */
  private judge(input: RiskSignalInput, last: LastLocation, here: Located): RiskReason | undefined {
    const km = haversineKm(last.lat, last.lon, here.latitude, here.longitude);
    if (km < this.options.minDistanceKm) return undefined;
    const hours = (input.now.getTime() - last.t) / 3_600_000;
    const speed = hours <= 0 ? Number.POSITIVE_INFINITY : km / hours;
    if (speed <= this.options.maxSpeedKmh) return undefined;
    const minutes = Math.max(0, Math.round(hours * 60));
    return {
      signal: this.name,
      score: this.options.travelScore,
      reason: `impossible travel from ${last.place} to ${placeOf(here)}: ${Math.round(km)} km in ${minutes} min`,
      event: 'authn_impossible_travel',
    };
  }
}
