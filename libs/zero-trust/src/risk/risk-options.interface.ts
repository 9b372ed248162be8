import { isIP } from 'node:net';
import * as z from 'zod';
import {
  customIssue,
  optionsObject,
  evenWithOtherProblems,
  implementing,
  numberIn,
  ownMap,
  says,
  shaped,
  zeroTrustMode,
} from '../options/schema-kit.js';
import type { GeoLocator } from './signals/geo-locator.js';
import type { RiskSignal } from './risk.types.js';

/* The `risk` option, declared once: types (inferred below), defaults, rules and error texts. */

const score = numberIn(0, 100, 'must be a score from 0 to 100');
const count = (min: number, message = `must be an integer of at least ${min}`) =>
  numberIn(min, Number.MAX_SAFE_INTEGER, message, true);
const seconds = count(1, 'must be a whole number of seconds, at least 1');
const names = (message: string) => z.array(z.string(), says(message));
const lowerCase = (list: string[]) => list.map((name) => name.toLowerCase());

/** An address or a CIDR block. */
const addressOrBlock = z.string(says('must be an address or a CIDR block')).refine((entry) => {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return (
    prefix === undefined ||
    (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))
  );
});
const addressBlocks = z.array(addressOrBlock, says('must be an array of addresses or CIDR blocks'));

/** A built-in signal: off with `false`; when absent, on with its defaults unless `on` is false. */
const signal = <S extends z.ZodRawShape>(on: boolean, shape: S) =>
  z
    .union([z.literal(false), optionsObject(shape)], says('must be an object or false'))
    .prefault((on ? {} : false) as never)
    .transform((value) => (value === false ? undefined : value));

const country = z
  .string(says('must be an ISO 3166-1 alpha-2 code (e.g. "FR")'))
  .regex(/^[A-Z]{2}$/);

const riskSignal = shaped<RiskSignal>((v) => {
  const { name, evaluate } = (v ?? {}) as Partial<RiskSignal>;
  return typeof name === 'string' && name.length > 0 && typeof evaluate === 'function';
}, 'must implement RiskSignal (name, evaluate)');

const risk = optionsObject({
  /** `enforce` or `report-only` (record "would step up" / "would deny"). @default the module's `mode` */
  mode: zeroTrustMode.optional(),
  /** Scores above this require step-up authentication. @default 40 */
  stepUpAbove: score.default(40),
  /** Scores above this are denied. @default 75 */
  denyAbove: score.default(75),
  /** Step-up challenge (RFC 9470): the `acr` to reach, the authentication's maximum age (s). @default { maxAge: 300 } */
  stepUp: optionsObject({
    acr: z
      .string(says('must be a non-empty string without quotes'))
      .regex(/^[^"\\]+$/)
      .optional(),
    maxAge: seconds.default(300),
  }).prefault({}),
  /** A failing signal or store: `fail-closed` answers 503, `ignore` scores 0 and logs. @default 'fail-closed' */
  onError: z.enum(['fail-closed', 'ignore']).default('fail-closed'),
  /** Your own signals, evaluated after the built-in ones. @default [] */
  signals: z
    .array(riskSignal)
    .default([])
    .check((ctx) => {
      const given = ctx.value.map((entry) => (entry as Partial<RiskSignal> | null)?.name);
      given.forEach((name, i) => {
        if (typeof name === 'string' && given.indexOf(name) < i)
          ctx.issues.push(customIssue(`duplicate signal name "${name}"`, [i]));
      });
    }),
  /** Device binding: the device the token was issued to versus the request's. @default on */
  device: signal(true, {
    /** Token claim naming the device the token was issued to (a fingerprint hash). @default 'device_id' */
    claim: z.string(says('must be a claim name')).min(1).default('device_id'),
    /** Headers hashed into the device fingerprint (`cnf.jkt` replaces it). @default ['user-agent', 'accept-language'] */
    headers: names('must be a non-empty array of header names')
      .min(1)
      .default(['user-agent', 'accept-language'])
      .transform(lowerCase),
    /** Score when the request's device differs from the token's. @default 70 */
    mismatchScore: score.default(70),
    /** Score for a device never seen for this principal (not for the first one). @default 25 */
    newDeviceScore: score.default(25),
    /** How long a known device is remembered, in seconds. @default 2592000 (30 days) */
    ttl: seconds.default(2_592_000),
  }),
  /** Geolocation of the client address: country lists, impossible travel. @default off */
  geolocation: signal(false, {
    /** A GeoIP2/GeoLite2 City `.mmdb` file (never downloaded), or your own {@link GeoLocator}. */
    database: z.union(
      [
        z.string().min(1),
        implementing<GeoLocator>(['locate'], 'must be a path to an .mmdb file or a GeoLocator'),
      ],
      says('must be a path to an .mmdb file or a GeoLocator'),
    ),
    /** ISO country codes allowed; any other known country scores `countryScore`. */
    allowCountries: z.array(country).optional(),
    /** ISO country codes refused (score `countryScore`). */
    denyCountries: z.array(country).default([]),
    /** Score of a country outside the allow list or in the deny list. @default 100 */
    countryScore: score.default(100),
    /** Speed between two consecutive locations above which travel is impossible. @default 900 (km/h) */
    maxSpeedKmh: numberIn(1, Infinity, 'must be a number of km/h, at least 1').default(900),
    /** Distance below which travel is ignored (GeoIP noise). @default 50 (km) */
    minDistanceKm: numberIn(0, Infinity, 'must be a non-negative number of km').default(50),
    /** Score of impossible travel (above the default step-up threshold, below deny). @default 60 */
    travelScore: score.default(60),
    /** How long the last location of a principal is kept, in seconds. @default 86400 */
    ttl: seconds.default(86_400),
  }),
  /** Usage pattern of a principal against its own history. @default on */
  usage: signal(true, {
    /** Requests per minute are suspicious above `rateFactor` × the principal's baseline. @default 4 */
    rateFactor: numberIn(1, Infinity, 'must be a number of at least 1').default(4),
    /** Never flag a rate at or below this many requests per minute. @default 60 */
    minRate: count(0).default(60),
    /** Minutes of baseline needed before rates are judged. @default 5 */
    learningMinutes: count(0).default(5),
    /** Score of an unusual rate. @default 30 */
    rateScore: score.default(30),
    /** Successful requests of a service before a new route counts as unusual. @default 50 */
    learningRequests: count(0).default(50),
    /** Score of a service calling a route it never called (a service cannot step up: denied). @default 50 */
    newRouteScore: score.default(50),
    /** Working hours by principal id (UTC `HH:MM-HH:MM`, may wrap midnight). @default {} */
    hours: ownMap(
      z
        .string(says('must look like "08:00-18:00" (UTC)'))
        .regex(/^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/),
      'must be an object by principal id',
    ).prefault({}),
    /** Score of activity outside a principal's hours. @default 30 */
    hoursScore: score.default(30),
    /** How long baselines and known routes are kept, in seconds. @default 2592000 (30 days) */
    ttl: seconds.default(2_592_000),
  }),
  /** Network allow and deny lists of the client address. @default on (empty lists) */
  network: signal(true, {
    /** Address blocks each service (by client id) may call from; others score `score`. @default {} */
    services: ownMap(addressBlocks, 'must be an object by client id').prefault({}),
    /** Addresses or CIDR blocks refused for everyone. @default [] */
    deny: addressBlocks.default([]),
    /** Score of a refused address. @default 100 */
    score: score.default(100),
  }),
  /** Bursts of a principal's own failed requests (401/403). @default on */
  failures: signal(true, {
    /** Window of the counters, in seconds. @default 300 */
    window: seconds.default(300),
    /** Failures in the window from which the signal fires. @default 10 */
    threshold: count(1).default(10),
    /** Score when the threshold is reached. @default 50 */
    score: score.default(50),
  }),
  /** Injection payloads in the path, query, headers and body. @default on */
  injection: signal(true, {
    /** Score of a detected payload. @default 90 */
    score: score.default(90),
    /** Headers never scanned (besides Authorization, DPoP and Cookie, always skipped). @default [] */
    skipHeaders: names('must be an array of names').default([]).transform(lowerCase),
    /** Body fields never scanned (e.g. free-text fields that may quote code). @default [] */
    skipFields: names('must be an array of names').default([]),
  }),
})
  .superRefine(({ stepUpAbove, denyAbove }, ctx) => {
    if (typeof stepUpAbove === 'number' && typeof denyAbove === 'number' && stepUpAbove > denyAbove)
      ctx.addIssue(customIssue('must not exceed risk.denyAbove', ['stepUpAbove']));
  }, evenWithOtherProblems)
  .transform((options) => ({ enabled: true, ...options }));

const off = {
  ...risk.parse({ device: false, usage: false, network: false, failures: false, injection: false }),
  enabled: false,
};

/** The `risk` option: absent means no risk assessment (`enabled: false`, every signal off). @internal */
export const riskOptions = risk.optional().transform((options) => options ?? off);
