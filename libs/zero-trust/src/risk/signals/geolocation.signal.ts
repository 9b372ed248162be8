import type { ResolvedRiskOptions } from '../../options/validate-risk.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';
import { haversineKm, type GeoLocation, type GeoLocator } from './geo-locator.js';
import { principalKey } from './keys.js';

type Options = NonNullable<ResolvedRiskOptions['geolocation']>;

interface LastLocation {
  lat: number;
  lon: number;
  t: number;
  place: string;
}

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
 * @publicApi
 */
export class GeolocationSignal implements RiskSignal {
  readonly name = 'geolocation';

  constructor(
    private readonly options: Options,
    private readonly locator: GeoLocator,
  ) {}

  evaluate(input: RiskSignalInput): RiskReason[] | Promise<RiskReason[]> {
    const ip = input.context.ip;
    if (ip === undefined) return [];
    const located = this.locator.locate(ip);
    // The built-in locator answers synchronously: no promise unless the travel check reads the store.
    return located instanceof Promise
      ? located.then((location) => this.assess(input, location))
      : this.assess(input, located);
  }

  private assess(
    input: RiskSignalInput,
    location: GeoLocation | undefined,
  ): RiskReason[] | Promise<RiskReason[]> {
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
    if (
      input.principal === undefined ||
      location.latitude === undefined ||
      location.longitude === undefined
    )
      return reasons;
    return this.travel(input, location).then((travel) => {
      if (travel !== undefined) reasons.push(travel);
      return reasons;
    });
  }

  /** Remembers where a principal was when a request succeeded. */
  record(input: RiskSignalInput): Promise<void> | undefined {
    const lat = input.facts.get('latitude');
    const lon = input.facts.get('longitude');
    if (input.principal === undefined || typeof lat !== 'number' || typeof lon !== 'number')
      return undefined;
    const last: LastLocation = {
      lat,
      lon,
      t: input.now.getTime(),
      place: placeOf({
        country: input.facts.get('country') as string | undefined,
        city: input.facts.get('city') as string | undefined,
      }),
    };
    return input.store.set(
      principalKey('geo', input.principal),
      JSON.stringify(last),
      this.options.ttl,
    );
  }

  private async travel(input: RiskSignalInput, here: GeoLocation): Promise<RiskReason | undefined> {
    if (
      input.principal === undefined ||
      here.latitude === undefined ||
      here.longitude === undefined
    )
      return undefined;
    const stored = await input.store.get(principalKey('geo', input.principal));
    if (stored === undefined) return undefined;
    let last: LastLocation;
    try {
      last = JSON.parse(stored) as LastLocation;
    } catch {
      return undefined;
    }
    if (typeof last.lat !== 'number' || typeof last.lon !== 'number' || typeof last.t !== 'number')
      return undefined;
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
