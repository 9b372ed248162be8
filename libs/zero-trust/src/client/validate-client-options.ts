import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

import type { ClientTlsOptions } from './token-endpoint.js';

/** Keys a `ServiceTokenClientOptions` object may have. */
const CLIENT_OPTION_KEYS = new Set([
  'issuer',
  'tokenEndpoint',
  'clientId',
  'clientSecret',
  'authMethod',
  'tls',
  'scopes',
  'refreshSkew',
  'timeout',
  'dpop',
  'clock',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPem(value: unknown): value is string | Buffer {
  return (typeof value === 'string' && value.length > 0) || Buffer.isBuffer(value);
}

/**
 * Checks an identity-provider URL: absolute, no credentials, query or fragment; HTTPS, or HTTP
 * on a loopback host only. Pushes a problem naming `path` (never the value) when it is not.
 */
export function checkIdpUrl(value: unknown, path: string, problems: string[]): string | undefined {
  if (typeof value !== 'string' || value.length === 0) {
    problems.push(`${path} must be a URL string`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${path} is not an absolute URL`);
    return undefined;
  }
  if (url.username || url.password || url.search || url.hash) {
    problems.push(`${path} must not carry credentials, a query or a fragment`);
    return undefined;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '127.0.0.1' || host === '::1';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    problems.push(`${path} must use https (http is accepted on loopback only)`);
    return undefined;
  }
  return value;
}

/** The client certificate checked: parsed key and certificate that belong together. */
export function checkTls(
  value: unknown,
  path: string,
  problems: string[],
): ClientTlsOptions | undefined {
  if (!isRecord(value)) {
    problems.push(`${path} must be an object { key, cert, ca? }`);
    return undefined;
  }
  let key: KeyObject | undefined;
  let cert: X509Certificate | undefined;
  if (!isPem(value.key)) problems.push(`${path}.key must be a PEM string or Buffer`);
  else {
    try {
      key = createPrivateKey(value.key);
    } catch {
      problems.push(`${path}.key is not a readable private key`);
    }
  }
  if (!isPem(value.cert)) problems.push(`${path}.cert must be a PEM string or Buffer`);
  else {
    try {
      cert = new X509Certificate(value.cert);
    } catch {
      problems.push(`${path}.cert is not a readable certificate`);
    }
  }
  if (key && cert && !cert.checkPrivateKey(key)) {
    problems.push(`${path}.key does not belong to ${path}.cert`);
  }
  const ca = value.ca;
  if (ca !== undefined && !isPem(ca) && !(Array.isArray(ca) && ca.every(isPem))) {
    problems.push(`${path}.ca must be PEM (string, Buffer or an array of them)`);
  }
  if (!key || !cert || !isPem(value.key) || !isPem(value.cert)) return undefined;
  return {
    key: value.key,
    cert: value.cert,
    ...(ca === undefined ? {} : { ca: ca as ClientTlsOptions['ca'] }),
  };
}

/** Checks a number of seconds in `[min, max]`, returning `fallback` when absent. */
export function checkSeconds(
  value: unknown,
  path: string,
  range: { min: number; max: number; fallback: number },
  problems: string[],
): number {
  if (value === undefined) return range.fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < range.min ||
    value > range.max
  ) {
    problems.push(`${path} must be a number of seconds from ${range.min} to ${range.max}`);
    return range.fallback;
  }
  return value;
}

/** Unknown keys of an options object, as problems. */
export function checkKnownKeys(
  value: Record<string, unknown>,
  known: ReadonlySet<string>,
  path: string,
  problems: string[],
): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) problems.push(`${path} has an unknown option "${key.slice(0, 40)}"`);
  }
}

/** The validated settings of a service token client. */
export interface ResolvedClientOptions {
  issuer: string | undefined;
  tokenEndpoint: string | undefined;
  clientId: string;
  clientSecret: string | undefined;
  authMethod: 'client_secret_basic' | 'tls_client_auth';
  tls: ClientTlsOptions | undefined;
  scopes: Readonly<Record<string, string>>;
  refreshSkewMs: number;
  timeoutMs: number;
  dpop: boolean | KeyObject;
  clock: () => number;
}

/**
 * Validates `ServiceTokenClientOptions`, pushing every problem (values never echoed).
 */
export function validateClientOptions(value: unknown, problems: string[]): ResolvedClientOptions {
  const o = isRecord(value) ? value : {};
  if (!isRecord(value)) problems.push('the options must be an object');
  checkKnownKeys(o, CLIENT_OPTION_KEYS, 'client options', problems);

  const clientId = typeof o.clientId === 'string' && o.clientId.length > 0 ? o.clientId : '';
  if (!clientId) problems.push('clientId must be a non-empty string');

  const issuer = o.issuer === undefined ? undefined : checkIdpUrl(o.issuer, 'issuer', problems);
  const tokenEndpoint =
    o.tokenEndpoint === undefined
      ? undefined
      : checkIdpUrl(o.tokenEndpoint, 'tokenEndpoint', problems);
  if (o.issuer === undefined && o.tokenEndpoint === undefined) {
    problems.push('issuer (for discovery) or tokenEndpoint is required');
  }

  let clientSecret: string | undefined;
  if (o.clientSecret !== undefined) {
    if (typeof o.clientSecret !== 'string' || o.clientSecret.length === 0) {
      problems.push('clientSecret must be a non-empty string');
    } else clientSecret = o.clientSecret;
  }
  const tls = o.tls === undefined ? undefined : checkTls(o.tls, 'tls', problems);

  let authMethod: ResolvedClientOptions['authMethod'] =
    o.clientSecret === undefined && o.tls !== undefined ? 'tls_client_auth' : 'client_secret_basic';
  if (o.authMethod !== undefined) {
    if (o.authMethod !== 'client_secret_basic' && o.authMethod !== 'tls_client_auth') {
      problems.push('authMethod must be "client_secret_basic" or "tls_client_auth"');
    } else authMethod = o.authMethod;
  }
  if (authMethod === 'client_secret_basic' && o.clientSecret === undefined) {
    problems.push('client_secret_basic needs clientSecret (or give tls for tls_client_auth)');
  }
  if (authMethod === 'tls_client_auth' && o.tls === undefined) {
    problems.push('tls_client_auth needs tls { key, cert }');
  }
  if (authMethod === 'tls_client_auth' && o.clientSecret !== undefined) {
    problems.push('clientSecret must not be set with tls_client_auth');
  }

  // Null-prototype: an audience is a key like any other, whatever its name.
  const scopes = Object.create(null) as Record<string, string>;
  if (o.scopes !== undefined) {
    if (!isRecord(o.scopes)) problems.push('scopes must map audiences to scope strings');
    else {
      for (const [audience, scope] of Object.entries(o.scopes)) {
        if (typeof scope !== 'string') problems.push('scopes values must be strings');
        else scopes[audience] = scope;
      }
    }
  }

  const refreshSkew = checkSeconds(
    o.refreshSkew,
    'refreshSkew',
    { min: 0, max: 3600, fallback: 30 },
    problems,
  );
  const timeout = checkSeconds(
    o.timeout,
    'timeout',
    { min: 0.1, max: 120, fallback: 10 },
    problems,
  );

  let dpop: boolean | KeyObject = false;
  if (o.dpop !== undefined) {
    if (typeof o.dpop === 'boolean') dpop = o.dpop;
    else if (isRecord(o.dpop) && o.dpop.privateKey !== undefined) {
      const key = o.dpop.privateKey;
      const ok =
        typeof key === 'object' &&
        key !== null &&
        (key as KeyObject).type === 'private' &&
        (key as KeyObject).asymmetricKeyType === 'ec';
      if (!ok) problems.push('dpop.privateKey must be a P-256 private KeyObject');
      else dpop = key as KeyObject;
    } else problems.push('dpop must be a boolean or { privateKey }');
  }

  let clock: () => number = Date.now;
  if (o.clock !== undefined) {
    if (typeof o.clock !== 'function') problems.push('clock must be a function returning ms');
    else clock = o.clock as () => number;
  }

  return {
    issuer,
    tokenEndpoint,
    clientId,
    clientSecret,
    authMethod,
    tls,
    scopes,
    refreshSkewMs: refreshSkew * 1000,
    timeoutMs: timeout * 1000,
    dpop,
    clock,
  };
}
