import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import type { GeoLocator } from './signals/geo-locator.js';
import type { RiskSignal } from './risk.types.js';

/**
 * Device binding: the device the token was issued to versus the device of the request.
 *
 * @publicApi
 */
export interface DeviceSignalOptions {
  /** Token claim naming the device the token was issued to (a fingerprint hash). @default 'device_id' */
  claim?: string;
  /**
   * Request headers whose values make the device fingerprint (hashed, never stored raw). A
   * token with `cnf.jkt` (DPoP) uses the key thumbprint instead.
   * @default ['user-agent', 'accept-language']
   */
  headers?: string[];
  /** Score when the request's device differs from the token's. @default 70 */
  mismatchScore?: number;
  /** Score for a device never seen for this principal (not for the first one). @default 25 */
  newDeviceScore?: number;
  /** How long a known device is remembered, in seconds. @default 2592000 (30 days) */
  ttl?: number;
}

/**
 * Geolocation of the client address: country lists and impossible travel.
 *
 * @publicApi
 */
export interface GeolocationSignalOptions {
  /**
   * A GeoIP2/GeoLite2 City database file (`.mmdb`) read with `@maxmind/geoip2-node`, or your
   * own {@link GeoLocator}. Nothing is ever downloaded. Without it the signal is off.
   */
  database?: string | GeoLocator;
  /** ISO country codes allowed; any other known country scores `countryScore`. */
  allowCountries?: string[];
  /** ISO country codes refused (score `countryScore`). */
  denyCountries?: string[];
  /** Score of a country outside the allow list or in the deny list. @default 100 */
  countryScore?: number;
  /** Speed between two consecutive locations above which travel is impossible. @default 900 (km/h) */
  maxSpeedKmh?: number;
  /** Distance below which travel is ignored (GeoIP noise). @default 50 (km) */
  minDistanceKm?: number;
  /** Score of impossible travel (above the default step-up threshold, below deny). @default 60 */
  travelScore?: number;
  /** How long the last location of a principal is kept, in seconds. @default 86400 */
  ttl?: number;
}

/**
 * Usage pattern of a principal against its own history.
 *
 * @publicApi
 */
export interface UsageSignalOptions {
  /** Requests per minute are suspicious above `rateFactor` × the principal's baseline. @default 4 */
  rateFactor?: number;
  /** Never flag a rate at or below this many requests per minute. @default 60 */
  minRate?: number;
  /** Minutes of baseline needed before rates are judged. @default 5 */
  learningMinutes?: number;
  /** Score of an unusual rate. @default 30 */
  rateScore?: number;
  /**
   * Successful requests of a service before a new route counts as unusual (refused ones do not
   * count; the warm-up starts again when the learnt routes are gone). @default 50
   */
  learningRequests?: number;
  /** Score of a service calling a route it never called (a service cannot step up: denied). @default 50 */
  newRouteScore?: number;
  /**
   * Hours (UTC, `HH:MM-HH:MM`, may wrap midnight) when a principal usually works, by principal
   * id. Requests outside them score `hoursScore`.
   * @default {}
   */
  hours?: Record<string, string>;
  /** Score of activity outside a principal's hours. @default 30 */
  hoursScore?: number;
  /** How long baselines and known routes are kept, in seconds. @default 2592000 (30 days) */
  ttl?: number;
}

/**
 * Network location of the client address.
 *
 * @publicApi
 */
export interface NetworkSignalOptions {
  /** Address blocks each service (by client id) may call from; others score `score`. @default {} */
  services?: Record<string, string[]>;
  /** Addresses or CIDR blocks refused for everyone. @default [] */
  deny?: string[];
  /** Score of a refused address. @default 100 */
  score?: number;
}

/**
 * Bursts of a principal's own failed requests (401/403). Failures no principal owns (missing or
 * refused tokens) are never counted here: see the `authenticationFailures` option.
 *
 * @publicApi
 */
export interface FailureSignalOptions {
  /** Window of the counters, in seconds. @default 300 */
  window?: number;
  /** Failures in the window from which the signal fires. @default 10 */
  threshold?: number;
  /** Score when the threshold is reached. @default 50 */
  score?: number;
}

/**
 * Injection payloads in the path, query, headers and body.
 *
 * @publicApi
 */
export interface InjectionSignalOptions {
  /** Score of a detected payload. @default 90 */
  score?: number;
  /** Headers never scanned (besides Authorization, DPoP and Cookie, always skipped). @default [] */
  skipHeaders?: string[];
  /** Body fields never scanned (e.g. free-text fields that may quote code). @default [] */
  skipFields?: string[];
}

/**
 * Context risk (the `risk` option). Absent: no risk assessment at all. Present: every request
 * of a non-public route is scored 0–100 by the enabled signals, and the result allowed, sent to
 * step-up authentication, or denied. Each built-in signal takes `false` to switch it off.
 *
 * @publicApi
 */
export interface RiskOptions {
  /** `enforce` or `report-only` (record "would step up" / "would deny"). @default the module's `mode` */
  mode?: ZeroTrustMode;
  /** Scores above this require step-up authentication. @default 40 */
  stepUpAbove?: number;
  /** Scores above this are denied. @default 75 */
  denyAbove?: number;
  /**
   * Step-up requirement sent in the challenge (RFC 9470): the `acr` to reach, and the maximum
   * age in seconds of the authentication.
   * @default { acr: undefined, maxAge: 300 }
   */
  stepUp?: { acr?: string; maxAge?: number };
  /**
   * What an error of a signal or of the store does: `fail-closed` answers 503, `ignore` scores
   * the signal 0 and logs.
   * @default 'fail-closed'
   */
  onError?: 'fail-closed' | 'ignore';
  /** Your own signals, evaluated after the built-in ones. @default [] */
  signals?: RiskSignal[];
  /** Device binding. @default on */
  device?: DeviceSignalOptions | false;
  /** Geolocation (needs `database`). @default off */
  geolocation?: GeolocationSignalOptions | false;
  /** Usage pattern. @default on */
  usage?: UsageSignalOptions | false;
  /** Network allow and deny lists. @default on (empty lists) */
  network?: NetworkSignalOptions | false;
  /** Failure bursts. @default on */
  failures?: FailureSignalOptions | false;
  /** Injection payloads. @default on */
  injection?: InjectionSignalOptions | false;
}
