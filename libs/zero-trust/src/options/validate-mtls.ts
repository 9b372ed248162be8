import { isTrustDomain } from '../identity/mtls/spiffe-id.js';
import type { CertificateSource } from './zero-trust-options.interface.js';
import { ownRecord } from '../utils/own-keys.js';

/**
 * The `mtls` options with defaults applied.
 *
 * @internal
 */
export interface ResolvedMtlsOptions {
  trustDomain: string;
  source: CertificateSource;
  /** SPIFFE path → client_id; undefined: the path is the client_id. */
  services: Readonly<Record<string, string>> | undefined;
  requireForServices: boolean;
}

const SOURCES: readonly string[] = ['socket', 'xfcc', 'both'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates the `mtls` option (service identity by client certificates). Problems are pushed to
 * `problems`; values are never echoed.
 *
 * @internal
 */
export function validateMtls(value: unknown, problems: string[]): ResolvedMtlsOptions | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.push('mtls must be an object');
    return undefined;
  }
  const known = new Set(['trustDomain', 'source', 'services', 'requireForServices']);
  for (const key of Object.keys(value)) {
    if (!known.has(key)) problems.push(`unknown option "mtls.${key}"`);
  }
  const resolved: ResolvedMtlsOptions = {
    trustDomain: '',
    source: 'socket',
    services: undefined,
    requireForServices: false,
  };
  if (typeof value.trustDomain !== 'string' || !isTrustDomain(value.trustDomain))
    problems.push(
      'mtls.trustDomain is required: a SPIFFE trust domain name (lowercase letters, digits, ".", "-", "_")',
    );
  else resolved.trustDomain = value.trustDomain;
  if (value.source !== undefined) {
    if (typeof value.source !== 'string' || !SOURCES.includes(value.source))
      problems.push('mtls.source must be "socket", "xfcc" or "both"');
    else resolved.source = value.source as CertificateSource;
  }
  if (value.services !== undefined) {
    if (
      !isObject(value.services) ||
      !Object.values(value.services).every((v) => typeof v === 'string' && v.length > 0)
    )
      problems.push('mtls.services must map SPIFFE ID paths to client ids (non-empty strings)');
    else resolved.services = ownRecord(value.services as Record<string, string>);
  }
  if (value.requireForServices !== undefined) {
    if (typeof value.requireForServices !== 'boolean')
      problems.push('mtls.requireForServices must be a boolean');
    else resolved.requireForServices = value.requireForServices;
  }
  return resolved;
}
