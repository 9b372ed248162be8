/** A parsed SPIFFE ID: `spiffe://<trustDomain>/<path>`. @internal */
export interface SpiffeId {
  /** The whole ID, e.g. `spiffe://demo.local/billing-worker`. */
  readonly id: string;
  /** The trust domain, e.g. `demo.local`. */
  readonly trustDomain: string;
  /** The path without its leading `/`, e.g. `billing-worker` or `ns/prod/sa/billing`. */
  readonly path: string;
}

const PREFIX = 'spiffe://';
/** Trust domain characters (SPIFFE-ID.md §2.1): lowercase letters, digits, `.`, `-`, `_`. */
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
/** Path segment characters (SPIFFE-ID.md §2.2): letters, digits, `.`, `-`, `_`. */
const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_LENGTH = 2048;

/** Whether a string is a valid trust domain name. @internal */
export function isTrustDomain(value: string): boolean {
  return value.length > 0 && value.length <= 255 && TRUST_DOMAIN.test(value);
}

/** Parses a workload SPIFFE ID strictly per SPIFFE-ID.md, or returns undefined. @internal */
export function parseSpiffeId(value: string): SpiffeId | undefined {
  if (value.length > MAX_LENGTH || !value.startsWith(PREFIX)) return undefined;
  const rest = value.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined; // no trust domain, or no path (a workload ID needs one)
  const trustDomain = rest.slice(0, slash);
  if (!isTrustDomain(trustDomain)) return undefined;
  const path = rest.slice(slash + 1);
  const valid = (segment: string): boolean => SEGMENT.test(segment) && !/^\.\.?$/.test(segment);
  if (!path.split('/').every(valid)) return undefined;
  return { id: value, trustDomain, path };
}
