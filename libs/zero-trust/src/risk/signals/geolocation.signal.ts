import type { ResolvedRiskOptions } from '../../options/validate-options.js';
import type { RiskReason, RiskSignalInput } from '../risk.types.js';
import { BuiltInSignal, isProvenWorkload, principalKey, storedFields } from './built-in.js';
import { haversineKm, type GeoLocation, type GeoLocator } from './geo-locator.js';

type LastLocation = { lat: number; lon: number; t: number; place: string };

// A burst at one place writes its location once a second (no trip hides in a second).
const REWRITE_AFTER_MS = 1000;
const PREVIOUS = 'geolocation:previous';

function placeOf({ country = '??', city }: GeoLocation): string {
  return city === undefined ? country : `${city} (${country})`;
}

/**
 * Geolocation of the client address (sets the facts `country`, `city`, `latitude`, `longitude`).
 * A workload that proved its key (`isProvenWorkload`) is not judged on geography. @internal
 */
export class GeolocationSignal extends BuiltInSignal<'geolocation'> {
  readonly name = 'geolocation';

  constructor(
    options: NonNullable<ResolvedRiskOptions['geolocation']>,
    private readonly locator: GeoLocator,
  ) {
    super(options);
  }

  async evaluate(input: RiskSignalInput): Promise<RiskReason[]> {
    const { context, principal, facts, store } = input;
    if (context.ip === undefined || isProvenWorkload(principal, context)) return [];
    const location = await this.locator.locate(context.ip);
    if (location === undefined) return [];
    const { country, city, latitude, longitude } = location;
    for (const [fact, value] of Object.entries({ country, city, latitude, longitude }))
      if (value !== undefined) facts.set(fact, value);
    const reasons: RiskReason[] = [];
    const { allowCountries, denyCountries, countryScore: score } = this.options;
    if (country !== undefined) {
      const denied = denyCountries.includes(country);
      const what = denied ? 'a denied country' : 'a country not allowed';
      if (denied || allowCountries?.includes(country) === false)
        reasons.push(this.found(score, `request from ${what} (${country})`));
    }
    if (principal === undefined || latitude === undefined || longitude === undefined)
      return reasons;
    const { lat, lon, t, place } = storedFields(await store.get(principalKey('geo', principal)));
    if (typeof lat !== 'number' || typeof lon !== 'number' || typeof t !== 'number') return reasons;
    const last = { lat, lon, t, place: typeof place === 'string' ? place : 'an unknown place' };
    facts.set(PREVIOUS, last);
    const km = haversineKm(lat, lon, latitude, longitude);
    const hours = (input.now.getTime() - t) / 3_600_000;
    if (km < this.options.minDistanceKm || (hours > 0 && km / hours <= this.options.maxSpeedKmh))
      return reasons;
    const minutes = Math.max(0, Math.round(hours * 60));
    const trip = `${last.place} to ${placeOf(location)}: ${Math.round(km)} km in ${minutes} min`;
    const reason = `impossible travel from ${trip}`;
    reasons.push(this.found(this.options.travelScore, reason, 'authn_impossible_travel'));
    return reasons;
  }

  /** Remembers where a principal was when a request succeeded. */
  async record({ principal, facts, now, store }: RiskSignalInput): Promise<void> {
    const lat = facts.get('latitude');
    const lon = facts.get('longitude');
    if (principal === undefined || typeof lat !== 'number' || typeof lon !== 'number') return;
    const t = now.getTime();
    const place = placeOf({
      country: facts.get('country') as string | undefined,
      city: facts.get('city') as string | undefined,
    });
    const last = facts.get(PREVIOUS) as LastLocation | undefined;
    const moved = last?.lat !== lat || last.lon !== lon || last.place !== place;
    if (!moved && t >= last.t && t - last.t < REWRITE_AFTER_MS) return;
    const location: LastLocation = { lat, lon, t, place };
    await store.set(principalKey('geo', principal), JSON.stringify(location), this.options.ttl);
  }
}
