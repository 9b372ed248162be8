import { isIP } from 'node:net';
import type {
  DeviceSignalOptions,
  FailureSignalOptions,
  GeolocationSignalOptions,
  InjectionSignalOptions,
  NetworkSignalOptions,
  UsageSignalOptions,
} from '../risk/risk-options.interface.js';
import type { RiskSignal } from '../risk/risk.types.js';
import type { GeoLocator } from '../risk/signals/geo-locator.js';
import type { ZeroTrustMode } from './zero-trust-options.interface.js';
import { ownRecord } from '../utils/own-keys.js';

type Full<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };

/**
 * Risk options with every default applied; `undefined` for a signal that is switched off.
 *
 * @internal
 */
export interface ResolvedRiskOptions {
  enabled: boolean;
  mode: ZeroTrustMode | undefined;
  stepUpAbove: number;
  denyAbove: number;
  stepUp: { acr: string | undefined; maxAge: number };
  onError: 'fail-closed' | 'ignore';
  signals: RiskSignal[];
  device: Full<DeviceSignalOptions> | undefined;
  geolocation:
    | (Full<Omit<GeolocationSignalOptions, 'database' | 'allowCountries'>> & {
        database: string | GeoLocator;
        allowCountries: string[] | undefined;
      })
    | undefined;
  usage: Full<UsageSignalOptions> | undefined;
  network: Full<NetworkSignalOptions> | undefined;
  failures: Full<FailureSignalOptions> | undefined;
  injection: Full<InjectionSignalOptions> | undefined;
}

const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;
const COUNTRY = /^[A-Z]{2}$/;
const MODES = new Set(['enforce', 'report-only']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * Whether `entry` is an address or a CIDR block.
 *
 * @internal
 */
export function isAddressOrBlock(entry: unknown): entry is string {
  if (typeof entry !== 'string') return false;
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Reads the options of one signal: defaults when absent, undefined when `false`. */
function section<T extends object>(
  name: string,
  value: unknown,
  defaults: Full<T>,
  problems: string[],
  check: (raw: Record<string, unknown>, resolved: Full<T>, path: string) => void,
): Full<T> | undefined {
  if (value === false) return undefined;
  const resolved = { ...defaults };
  if (value === undefined || value === true) return resolved;
  if (!isObject(value)) {
    problems.push(`risk.${name} must be an object or false`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(defaults, key)) problems.push(`risk.${name}: unknown option "${key}"`);
  }
  check(value, resolved, `risk.${name}`);
  return resolved;
}

/**
 * Validates the `risk` option and applies defaults. Absent means risk is off.
 *
 * @internal
 */
export function validateRisk(value: unknown, problems: string[]): ResolvedRiskOptions {
  const resolved: ResolvedRiskOptions = {
    enabled: value !== undefined && value !== false,
    mode: undefined,
    stepUpAbove: 40,
    denyAbove: 75,
    stepUp: { acr: undefined, maxAge: 300 },
    onError: 'fail-closed',
    signals: [],
    device: undefined,
    geolocation: undefined,
    usage: undefined,
    network: undefined,
    failures: undefined,
    injection: undefined,
  };
  if (!resolved.enabled) return resolved;
  if (!isObject(value)) {
    problems.push('risk must be an object');
    resolved.enabled = false;
    return resolved;
  }
  const known = new Set([
    'mode',
    'stepUpAbove',
    'denyAbove',
    'stepUp',
    'onError',
    'signals',
    'device',
    'geolocation',
    'usage',
    'network',
    'failures',
    'injection',
  ]);
  for (const key of Object.keys(value)) {
    if (!known.has(key)) problems.push(`risk: unknown option "${key}"`);
  }

  const number = (
    path: string,
    raw: unknown,
    fallback: number,
    { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false } = {},
  ): number => {
    if (raw === undefined) return fallback;
    if (
      typeof raw !== 'number' ||
      !Number.isFinite(raw) ||
      raw < min ||
      raw > max ||
      (integer && !Number.isInteger(raw))
    ) {
      problems.push(`${path} must be a${integer ? 'n integer' : ' number'} from ${min} to ${max}`);
      return fallback;
    }
    return raw;
  };
  const score = (path: string, raw: unknown, fallback: number): number =>
    number(path, raw, fallback, { max: 100 });
  const seconds = (path: string, raw: unknown, fallback: number): number =>
    number(path, raw, fallback, { min: 1, integer: true });

  if (value.mode !== undefined) {
    if (typeof value.mode !== 'string' || !MODES.has(value.mode))
      problems.push('risk.mode must be "enforce" or "report-only"');
    else resolved.mode = value.mode as ZeroTrustMode;
  }
  resolved.stepUpAbove = score('risk.stepUpAbove', value.stepUpAbove, 40);
  resolved.denyAbove = score('risk.denyAbove', value.denyAbove, 75);
  if (value.stepUp !== undefined) {
    if (!isObject(value.stepUp)) problems.push('risk.stepUp must be an object');
    else {
      const acr = value.stepUp.acr;
      if (acr !== undefined && (typeof acr !== 'string' || acr.length === 0 || /["\\]/.test(acr)))
        problems.push('risk.stepUp.acr must be a non-empty string without quotes');
      else resolved.stepUp.acr = acr;
      resolved.stepUp.maxAge = seconds('risk.stepUp.maxAge', value.stepUp.maxAge, 300);
    }
  }
  if (value.onError !== undefined) {
    if (value.onError !== 'fail-closed' && value.onError !== 'ignore')
      problems.push('risk.onError must be "fail-closed" or "ignore"');
    else resolved.onError = value.onError;
  }
  if (value.signals !== undefined) {
    const names = new Set<string>();
    if (!Array.isArray(value.signals)) problems.push('risk.signals must be an array of RiskSignal');
    else
      value.signals.forEach((signal: unknown, i) => {
        if (
          !isObject(signal) ||
          typeof signal.name !== 'string' ||
          signal.name.length === 0 ||
          typeof signal.evaluate !== 'function'
        )
          problems.push(`risk.signals[${i}] must implement RiskSignal (name, evaluate)`);
        else if (names.has(signal.name))
          problems.push(`risk.signals[${i}]: duplicate signal name "${signal.name}"`);
        else {
          names.add(signal.name);
          resolved.signals.push(signal as unknown as RiskSignal);
        }
      });
  }

  resolved.device = section<DeviceSignalOptions>(
    'device',
    value.device,
    {
      claim: 'device_id',
      headers: ['user-agent', 'accept-language'],
      mismatchScore: 70,
      newDeviceScore: 25,
      ttl: 2_592_000,
    },
    problems,
    (raw, out, path) => {
      if (raw.claim !== undefined) {
        if (typeof raw.claim !== 'string' || raw.claim.length === 0)
          problems.push(`${path}.claim must be a claim name`);
        else out.claim = raw.claim;
      }
      if (raw.headers !== undefined) {
        if (!isStringArray(raw.headers) || raw.headers.length === 0)
          problems.push(`${path}.headers must be a non-empty array of header names`);
        else out.headers = raw.headers.map((h) => h.toLowerCase());
      }
      out.mismatchScore = score(`${path}.mismatchScore`, raw.mismatchScore, out.mismatchScore);
      out.newDeviceScore = score(`${path}.newDeviceScore`, raw.newDeviceScore, out.newDeviceScore);
      out.ttl = seconds(`${path}.ttl`, raw.ttl, out.ttl);
    },
  );

  if (value.geolocation !== undefined && value.geolocation !== false) {
    const raw = value.geolocation;
    if (!isObject(raw)) problems.push('risk.geolocation must be an object or false');
    else {
      const allowed = new Set([
        'database',
        'allowCountries',
        'denyCountries',
        'countryScore',
        'maxSpeedKmh',
        'minDistanceKm',
        'travelScore',
        'ttl',
      ]);
      for (const key of Object.keys(raw)) {
        if (!allowed.has(key)) problems.push(`risk.geolocation: unknown option "${key}"`);
      }
      const database = raw.database;
      const countries = (name: string, list: unknown): string[] | undefined => {
        if (list === undefined) return undefined;
        if (!isStringArray(list) || !list.every((c) => COUNTRY.test(c))) {
          problems.push(`risk.geolocation.${name} must be ISO 3166-1 alpha-2 codes (e.g. "FR")`);
          return undefined;
        }
        return list;
      };
      const isLocator =
        isObject(database) && typeof (database as { locate?: unknown }).locate === 'function';
      const geolocation = {
        database: database as string | GeoLocator,
        allowCountries: countries('allowCountries', raw.allowCountries),
        denyCountries: countries('denyCountries', raw.denyCountries) ?? [],
        countryScore: score('risk.geolocation.countryScore', raw.countryScore, 100),
        maxSpeedKmh: number('risk.geolocation.maxSpeedKmh', raw.maxSpeedKmh, 900, { min: 1 }),
        minDistanceKm: number('risk.geolocation.minDistanceKm', raw.minDistanceKm, 50),
        travelScore: score('risk.geolocation.travelScore', raw.travelScore, 60),
        ttl: seconds('risk.geolocation.ttl', raw.ttl, 86_400),
      };
      if (!(typeof database === 'string' && database.length > 0) && !isLocator)
        problems.push('risk.geolocation.database must be a path to an .mmdb file or a GeoLocator');
      else resolved.geolocation = geolocation;
    }
  }

  resolved.usage = section<UsageSignalOptions>(
    'usage',
    value.usage,
    {
      rateFactor: 4,
      minRate: 60,
      learningMinutes: 5,
      rateScore: 30,
      learningRequests: 50,
      newRouteScore: 50,
      hours: {},
      hoursScore: 30,
      ttl: 2_592_000,
    },
    problems,
    (raw, out, path) => {
      out.rateFactor = number(`${path}.rateFactor`, raw.rateFactor, out.rateFactor, { min: 1 });
      out.minRate = number(`${path}.minRate`, raw.minRate, out.minRate, { integer: true });
      out.learningMinutes = number(`${path}.learningMinutes`, raw.learningMinutes, 5, {
        integer: true,
      });
      out.rateScore = score(`${path}.rateScore`, raw.rateScore, out.rateScore);
      out.learningRequests = number(`${path}.learningRequests`, raw.learningRequests, 50, {
        integer: true,
      });
      out.newRouteScore = score(`${path}.newRouteScore`, raw.newRouteScore, out.newRouteScore);
      out.hoursScore = score(`${path}.hoursScore`, raw.hoursScore, out.hoursScore);
      out.ttl = seconds(`${path}.ttl`, raw.ttl, out.ttl);
      if (raw.hours !== undefined) {
        if (!isObject(raw.hours)) problems.push(`${path}.hours must be an object by principal id`);
        else {
          for (const [id, hours] of Object.entries(raw.hours)) {
            if (typeof hours !== 'string' || !HOURS.test(hours))
              problems.push(`${path}.hours["${id}"] must look like "08:00-18:00" (UTC)`);
          }
          out.hours = ownRecord(raw.hours as Record<string, string>);
        }
      }
    },
  );

  resolved.network = section<NetworkSignalOptions>(
    'network',
    value.network,
    { services: {}, deny: [], score: 100 },
    problems,
    (raw, out, path) => {
      out.score = score(`${path}.score`, raw.score, out.score);
      if (raw.deny !== undefined) {
        if (!Array.isArray(raw.deny) || !raw.deny.every(isAddressOrBlock))
          problems.push(`${path}.deny must be an array of addresses or CIDR blocks`);
        else out.deny = raw.deny;
      }
      if (raw.services !== undefined) {
        if (!isObject(raw.services)) problems.push(`${path}.services must be an object`);
        else {
          for (const [id, blocks] of Object.entries(raw.services)) {
            if (!Array.isArray(blocks) || !blocks.every(isAddressOrBlock))
              problems.push(
                `${path}.services["${id}"] must be an array of addresses or CIDR blocks`,
              );
          }
          out.services = ownRecord(raw.services as Record<string, string[]>);
        }
      }
    },
  );

  resolved.failures = section<FailureSignalOptions>(
    'failures',
    value.failures,
    { window: 300, threshold: 10, score: 50 },
    problems,
    (raw, out, path) => {
      out.window = seconds(`${path}.window`, raw.window, out.window);
      out.threshold = number(`${path}.threshold`, raw.threshold, out.threshold, {
        min: 1,
        integer: true,
      });
      out.score = score(`${path}.score`, raw.score, out.score);
    },
  );

  resolved.injection = section<InjectionSignalOptions>(
    'injection',
    value.injection,
    { score: 90, skipHeaders: [], skipFields: [] },
    problems,
    (raw, out, path) => {
      out.score = score(`${path}.score`, raw.score, out.score);
      for (const key of ['skipHeaders', 'skipFields'] as const) {
        if (raw[key] === undefined) continue;
        if (!isStringArray(raw[key])) problems.push(`${path}.${key} must be an array of names`);
        else out[key] = key === 'skipHeaders' ? raw[key].map((h) => h.toLowerCase()) : raw[key];
      }
    },
  );

  if (resolved.stepUpAbove > resolved.denyAbove)
    problems.push('risk.stepUpAbove must not exceed risk.denyAbove');
  return resolved;
}
