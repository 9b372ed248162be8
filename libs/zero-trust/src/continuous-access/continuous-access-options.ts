import * as z from 'zod';
import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import { isAcceptableKeyUrl, numberIn, optionsObject, says } from '../options/schema-kit.js';
import { isRecord } from '../utils/http-json.js';

const name = (what: string) => z.string(says(`must be ${what} (a non-empty string)`)).min(1);
const names = (what: string) =>
  z
    .union([name(what), z.array(name(what)).min(1)], says(`must be ${what} or a non-empty array`))
    .transform((value) => (typeof value === 'string' ? [value] : value));
const keyUrl = () =>
  z.string(says('must be an https URL (http only on loopback hosts)')).refine(isAcceptableKeyUrl);
const seconds = (min: number, max: number) =>
  numberIn(min, max, `must be a number of seconds from ${min} to ${max}`);

const backchannelLogout = optionsObject({
  /** Your client id(s) at the issuer: a logout token's `aud` must name one. */
  audience: names('a client id'),
  /** Oldest logout token accepted, by its `iat`, in seconds. @default 300 */
  maxAge: seconds(10, 3600).default(300),
});

const sharedSignals = optionsObject({
  /** The transmitter's issuer, compared exactly with a SET's `iss`. */
  issuer: keyUrl(),
  /** The transmitter's key set (its `jwks_uri`), HTTPS but on loopback. */
  jwksUri: keyUrl(),
  /** This receiver's identifier: a SET's `aud` must name it. */
  audience: name('the receiver identifier'),
  /** The `Authorization` header value the transmitter sends with every push. @default none */
  authorization: z
    .string(says('must be the exact header value, at least 16 characters'))
    .min(16)
    .optional(),
  /** Oldest SET accepted, by its `iat` (a paused stream delivers late), in seconds. @default 86400 */
  maxAge: seconds(60, 30 * 86_400).default(86_400),
  /** How long a lowered assurance level or a non-compliant device is remembered. @default 14 days */
  stateTtl: seconds(60, 365 * 86_400).default(14 * 86_400),
  /** Risk score of a request from a device reported non-compliant. @default 100 (denied) */
  nonCompliantDeviceScore: numberIn(0, 100, 'must be a score from 0 to 100').default(100),
});

/**
 * Continuous access evaluation: the receivers of the issuer's logouts and security events. Each
 * needs its route in `receivers` of `forRoot` / `forRootAsync`. @internal
 */
export const continuousAccessOptions = optionsObject({
  /** OpenID Connect Back-Channel Logout 1.0: logout tokens from the token issuer. */
  backchannelLogout: backchannelLogout.optional(),
  /** OpenID Shared Signals (SSF 1.0, CAEP 1.0) push receiver (RFC 8935). */
  sharedSignals: sharedSignals.optional(),
});

/** Options of the continuous-access receivers (`continuousAccess`). @publicApi */
export type ContinuousAccessOptions = z.input<typeof continuousAccessOptions>;

/** Where the receivers are mounted (`receivers` of `forRoot` / `forRootAsync`). @publicApi */
export interface ReceiverRoutes {
  /** Path of the back-channel logout endpoint, e.g. `/oidc/backchannel-logout`. */
  backchannelLogout?: string;
  /** Path of the Security Event Token push endpoint, e.g. `/ssf/events`. */
  sharedSignals?: string;
}

const PATH = /^\/[\w\-./~]*$/;

/**
 * What contradicts between the mounted receivers and their options, in the words of a boot
 * error: a route with no options, options with no route, or a path with parameters. @internal
 */
function receiverProblems(input: unknown, routes: ReceiverRoutes): string[] {
  const given = isRecord(input) ? input : {};
  const configured = isRecord(given.continuousAccess) ? given.continuousAccess : {};
  const problems: string[] = [];
  for (const key of ['backchannelLogout', 'sharedSignals'] as const) {
    const path: unknown = routes[key];
    if (path !== undefined && (typeof path !== 'string' || !PATH.test(path)))
      problems.push(`receivers.${key} must be a path such as /${key} (no parameters)`);
    if (path !== undefined && configured[key] === undefined)
      problems.push(`receivers.${key} mounts a route, but continuousAccess.${key} is not set`);
    if (path === undefined && configured[key] !== undefined)
      problems.push(`continuousAccess.${key} is set, but receivers.${key} mounts no route for it`);
  }
  if (routes.backchannelLogout !== undefined && routes.backchannelLogout === routes.sharedSignals)
    problems.push('receivers.backchannelLogout and receivers.sharedSignals need their own paths');
  if (configured.sharedSignals !== undefined && typeof given.risk !== 'object')
    problems.push(
      'continuousAccess.sharedSignals needs the risk option: lowered assurance levels and non-compliant devices act through the risk assessment',
    );
  return problems;
}

/** Runs `parse` and adds the receivers' problems to its boot error (or throws them alone). @internal */
export function withReceivers<T>(parse: () => T, input: unknown, routes: ReceiverRoutes = {}): T {
  const problems = receiverProblems(input, routes);
  try {
    const resolved = parse();
    if (problems.length === 0) return resolved;
  } catch (error) {
    if (!(error instanceof ZeroTrustConfigurationError)) throw error;
    problems.unshift(...error.problems);
  }
  throw new ZeroTrustConfigurationError('ZT_OPTIONS_INVALID', problems);
}
