import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { ReaderModel } from '@maxmind/geoip2-node';
import { LRUCache } from 'lru-cache';
import { normalizeAddress } from '../../context/client-address.js';
import { compact } from '../../utils/compact.js';
import { inList } from './built-in.js';

/** Where an address is, as far as a geolocation database knows. @publicApi */
export interface GeoLocation {
  /** ISO 3166-1 alpha-2 country code. */
  country?: string;
  /** City name (English). */
  city?: string;
  /** Latitude in degrees. */
  latitude?: number;
  /** Longitude in degrees. */
  longitude?: number;
}

/** Looks addresses up; implement it to use another source than a MaxMind file. @publicApi */
export interface GeoLocator {
  /** The location of `ip`, or undefined when unknown (private ranges, missing entries). */
  locate(ip: string): GeoLocation | undefined | Promise<GeoLocation | undefined>;
}

type CityReader = Pick<ReaderModel, 'city'>;

// Ranges no database places anywhere (private, loopback, link-local, multicast, reserved...).
const NOT_ROUTED =
  '0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 192.168.0.0/16 224.0.0.0/4 240.0.0.0/4 ::/128 ::1/128 fc00::/7 fe80::/10 ff00::/8';
const notRouted = inList(NOT_ROUTED.split(' '));

/**
 * A {@link GeoLocator} over a MaxMind City file read into memory (never downloaded), with answers
 * remembered per address (a miss throws: paid once). @internal
 */
export class MaxMindGeoLocator implements GeoLocator {
  /** Answers by address (`false`: nowhere). */
  private readonly cache = new LRUCache<string, GeoLocation | false>({ max: 10_000 });

  private constructor(private readonly reader: CityReader) {}

  /** Opens a `.mmdb` file (GeoLite2-City, GeoIP2-City, or their test databases). */
  static async open(path: string): Promise<MaxMindGeoLocator> {
    const { Reader } = await import('@maxmind/geoip2-node');
    const buffer = await readFile(path);
    return new MaxMindGeoLocator(Reader.openBuffer(buffer));
  }

  locate(ip: string): GeoLocation | undefined {
    const cached = this.cache.get(ip);
    if (cached !== undefined) return cached || undefined;
    const address = normalizeAddress(ip);
    if (isIP(address) === 0) return undefined; // not an address at all: never remembered
    const location = notRouted(address) ? undefined : this.lookup(address);
    this.cache.set(ip, location ?? false);
    return location;
  }

  private lookup(address: string): GeoLocation | undefined {
    let found: ReturnType<CityReader['city']>;
    try {
      found = this.reader.city(address);
    } catch (error) {
      // A damaged database fails the signal (as `risk.onError` says), never "unknown place".
      if (error instanceof Error && error.name === 'AddressNotFoundError') return undefined;
      throw error;
    }
    const { country, city, location: at } = found;
    const placed = at?.latitude !== undefined && at.longitude !== undefined;
    const location: GeoLocation = compact({
      country: country?.isoCode,
      city: city?.names?.en,
      ...(placed ? { latitude: at.latitude, longitude: at.longitude } : {}),
    });
    return Object.keys(location).length === 0 ? undefined : location;
  }
}

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance between two points, in kilometres (haversine formula). @publicApi */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a =
    Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}
