import type { Principal } from '../../identity/principal.interface.js';
import type { ResolvedRiskOptions } from '../../options/validate-options.js';
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

/** A stored last location; undefined when absent or damaged. */
function parseLocation(text: string | undefined): LastLocation | undefined {
  try {
    const value = JSON.parse(text ?? 'null') as Partial<LastLocation> | null;
    if (typeof value?.lat !== 'number' || typeof value.lon !== 'number') return undefined;
    if (typeof value.t !== 'number') return undefined;
    const place = typeof value.place === 'string' ? value.place : 'an unknown place';
    return { lat: value.lat, lon: value.lon, t: value.t, place };
  } catch {
    return undefined; // a damaged location is ignored
  }
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
 * A service or integration that proved its key on the request (mTLS, a certificate-bound or
 * DPoP-bound token) is not judged on geography at all; one with a plain bearer token is (a
 * bearer token works for whoever holds it, so where it comes from is evidence).
 *
 * @publicApi
 */
export class GeolocationSignal implements RiskSignal {
  readonly name = 'geolocation';
  constructor(
    private readonly options: Options,
    private readonly locator: GeoLocator,
  ) {}

  async evaluate(input: RiskSignalInput): Promise<RiskReason[]> {
    const ip = input.context.ip;
    if (ip === undefined || isProvenWorkload(input.principal, input.context)) return [];
    const location = await this.locator.locate(ip);
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
    const travel = await this.travel(input, principal, location as Located);
    if (travel !== undefined) reasons.push(travel);
    return reasons;
  }

  /** Remembers where a principal was when a request succeeded. */
  async record(input: RiskSignalInput): Promise<void> {
    const lat = input.facts.get('latitude');
    const lon = input.facts.get('longitude');
    if (input.principal === undefined || typeof lat !== 'number' || typeof lon !== 'number') return;
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
      return;
    const last: LastLocation = { lat, lon, t, place };
    await input.store.set(
      principalKey('geo', input.principal),
      JSON.stringify(last),
      this.options.ttl,
    );
  }

  private async travel(
    input: RiskSignalInput,
    principal: Principal,
    here: Located,
  ): Promise<RiskReason | undefined> {
    const last = parseLocation(await input.store.get(principalKey('geo', principal)));
    if (last === undefined) return undefined;
    input.facts.set(PREVIOUS, last);
    return this.judge(input, last, here);
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
