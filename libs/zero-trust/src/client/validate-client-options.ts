import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import * as z from 'zod';

import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import {
  optionsObject,
  evenWithOtherProblems,
  func,
  numberIn,
  ownMap,
  parseOptions,
  says,
  shaped,
} from '../options/schema-kit.js';

/*
 * The options of the service token client, declared once: rules, defaults and error texts
 * (the public type, `ServiceTokenClientOptions`, is documented next to the client).
 */

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/** An identity-provider URL: absolute, no credentials, query or fragment; HTTPS, or HTTP on loopback. */
const idpUrl = z
  .string(says('must be a URL string'))
  .min(1)
  .check((ctx) => {
    const url = URL.parse(ctx.value);
    const loopback = url !== null && LOOPBACK.has(url.hostname.replace(/^\[|\]$/g, ''));
    const problem =
      url === null
        ? 'is not an absolute URL'
        : url.username || url.password || url.search || url.hash
          ? 'must not carry credentials, a query or a fragment'
          : url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)
            ? 'must use https (http is accepted on loopback only)'
            : undefined;
    if (problem !== undefined)
      ctx.issues.push({ code: 'custom', message: problem, input: undefined });
  });

const isPem = (value: unknown): value is string | Buffer =>
  (typeof value === 'string' && value.length > 0) || Buffer.isBuffer(value);
const pem = (message: string) => shaped<string | Buffer>(isPem, message);

/** The client certificate: a key and a certificate that can be read and belong together. */
const tls = optionsObject({
  /** PEM private key of the client certificate. */
  key: pem('must be a PEM string or Buffer'),
  /** PEM client certificate (the leaf, optionally followed by intermediates). */
  cert: pem('must be a PEM string or Buffer'),
  /** PEM CA certificate(s) trusted for the servers; the system store when omitted. */
  ca: shaped<string | Buffer | (string | Buffer)[]>(
    (ca) => isPem(ca) || (Array.isArray(ca) && ca.every(isPem)),
    'must be PEM (string, Buffer or an array of them)',
  ).optional(),
}).superRefine((value, ctx) => {
  const problem = (path: string, message: string) =>
    ctx.addIssue({ code: 'custom', path: [path], message });
  let key: KeyObject | undefined;
  let cert: X509Certificate | undefined;
  if (isPem(value.key))
    try {
      key = createPrivateKey(value.key);
    } catch {
      problem('key', 'is not a readable private key');
    }
  if (isPem(value.cert))
    try {
      cert = new X509Certificate(value.cert);
    } catch {
      problem('cert', 'is not a readable certificate');
    }
  if (key && cert && !cert.checkPrivateKey(key)) problem('key', 'does not belong to tls.cert');
}, evenWithOtherProblems);

/** The authentication method: as given, else `tls_client_auth` for a certificate without secret. */
function authMethodOf(o: { authMethod?: unknown; clientSecret?: unknown; tls?: unknown }) {
  return (
    o.authMethod ??
    (o.clientSecret === undefined && o.tls !== undefined
      ? 'tls_client_auth'
      : 'client_secret_basic')
  );
}

const clientOptions = optionsObject({
  issuer: idpUrl.optional(),
  tokenEndpoint: idpUrl.optional(),
  clientId: z.string(says('must be a non-empty string')).min(1),
  clientSecret: z.string(says('must be a non-empty string')).min(1).optional(),
  authMethod: z.enum(['client_secret_basic', 'tls_client_auth']).optional(),
  tls: tls.optional(),
  // Null-prototype: an audience is a key like any other, whatever its name.
  scopes: ownMap(z.string(), 'must map audiences to scope strings').prefault({}),
  refreshSkew: numberIn(0, 3600, 'must be a number of seconds from 0 to 3600').default(30),
  timeout: numberIn(0.1, 120, 'must be a number of seconds from 0.1 to 120').default(10),
  dpop: z
    .union(
      [
        z.boolean(),
        optionsObject({
          privateKey: shaped<KeyObject>(
            (key) =>
              typeof key === 'object' &&
              key !== null &&
              (key as KeyObject).type === 'private' &&
              (key as KeyObject).asymmetricKeyType === 'ec',
            'must be a P-256 private KeyObject',
          ),
        }),
      ],
      says('must be a boolean or { privateKey }'),
    )
    .default(false),
  clock: func<() => number>('must be a function returning ms').default(() => Date.now),
})
  .superRefine((o, ctx) => {
    const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
    if (o.issuer === undefined && o.tokenEndpoint === undefined)
      problem('issuer (for discovery) or tokenEndpoint is required');
    const authMethod = authMethodOf(o);
    if (authMethod === 'client_secret_basic' && o.clientSecret === undefined)
      problem('client_secret_basic needs clientSecret (or give tls for tls_client_auth)');
    if (authMethod === 'tls_client_auth' && o.tls === undefined)
      problem('tls_client_auth needs tls { key, cert }');
    if (authMethod === 'tls_client_auth' && o.clientSecret !== undefined)
      problem('clientSecret must not be set with tls_client_auth');
  }, evenWithOtherProblems)
  .transform(({ refreshSkew, timeout, dpop, ...o }) => ({
    ...o,
    authMethod: authMethodOf(o) as 'client_secret_basic' | 'tls_client_auth',
    refreshSkewMs: refreshSkew * 1000,
    timeoutMs: timeout * 1000,
    dpop: typeof dpop === 'boolean' ? dpop : dpop.privateKey,
  }));

/** The validated settings of a service token client. */
export type ResolvedClientOptions = z.output<typeof clientOptions>;

/**
 * Validates `ServiceTokenClientOptions`.
 *
 * @throws ZeroTrustConfigurationError (`ZT_OPTIONS_INVALID`) listing every problem (values never
 *   echoed); they are also pushed to `problems`
 */
export function validateClientOptions(value: unknown, problems: string[]): ResolvedClientOptions {
  return collect(() => parseOptions(clientOptions, value, 'the options'), problems);
}

/** Runs `parse`, also pushing its problems for callers that collect them before throwing. */
function collect<T>(parse: () => T, problems: string[]): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ZeroTrustConfigurationError) problems.push(...error.problems);
    throw error;
  }
}

/*
 * The helpers below serve the session refresher, which still collects its own problems; they
 * go once it declares its options as a schema too.
 */

/** Checks an identity-provider URL, pushing a problem naming `path` (never the value). */
export function checkIdpUrl(value: unknown, path: string, problems: string[]): string | undefined {
  try {
    return collect(() => parseOptions(idpUrl, value, path), problems);
  } catch {
    return undefined;
  }
}

/** Checks a number of seconds in `[min, max]`, returning `fallback` when absent or invalid. */
export function checkSeconds(
  value: unknown,
  path: string,
  range: { min: number; max: number; fallback: number },
  problems: string[],
): number {
  const seconds = numberIn(
    range.min,
    range.max,
    `must be a number of seconds from ${range.min} to ${range.max}`,
  );
  try {
    return collect(() => parseOptions(seconds.default(range.fallback), value, path), problems);
  } catch {
    return range.fallback;
  }
}

/** Unknown keys of an options object, as problems. */
export function checkKnownKeys(
  value: Record<string, unknown>,
  known: ReadonlySet<string>,
  path: string,
  problems: string[],
): void {
  for (const key of Object.keys(value))
    if (!known.has(key)) problems.push(`${path} has an unknown option "${key.slice(0, 40)}"`);
}
