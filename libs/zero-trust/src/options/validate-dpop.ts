/**
 * The `dpop` options with defaults applied.
 *
 * @internal
 */
export interface ResolvedDpopOptions {
  required: boolean;
  algorithms: string[];
  iatWindow: number;
  clockTolerance: number;
  /**
   * Where clients call the API: each an origin plus path prefix without trailing slash, e.g.
   * `https://api.example.com/v1`. A proof's `htu` must be one of them plus the request path.
   */
  publicUrls: string[];
  maxProofSize: number;
}

/** Proof algorithms accepted unless configured otherwise: asymmetric only. */
export const DEFAULT_DPOP_ALGORITHMS: readonly string[] = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'EdDSA',
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates the `dpop` option (RFC 9449 proof of possession). Problems are pushed to `problems`;
 * values are never echoed.
 *
 * @internal
 */
export function validateDpop(value: unknown, problems: string[]): ResolvedDpopOptions | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.push('dpop must be an object');
    return undefined;
  }
  const known = new Set([
    'required',
    'algorithms',
    'iatWindow',
    'clockTolerance',
    'publicUrl',
    'maxProofSize',
  ]);
  for (const key of Object.keys(value)) {
    if (!known.has(key)) problems.push(`unknown option "dpop.${key}"`);
  }
  const resolved: ResolvedDpopOptions = {
    required: false,
    algorithms: [...DEFAULT_DPOP_ALGORITHMS],
    iatWindow: 60,
    clockTolerance: 5,
    publicUrls: [],
    maxProofSize: 4096,
  };
  if (value.required !== undefined) {
    if (typeof value.required !== 'boolean') problems.push('dpop.required must be a boolean');
    else resolved.required = value.required;
  }
  if (value.algorithms !== undefined) {
    const list = value.algorithms;
    if (!Array.isArray(list) || list.length === 0 || !list.every((a) => typeof a === 'string'))
      problems.push('dpop.algorithms must be a non-empty array of algorithm names');
    else if (!list.every((a: string) => DEFAULT_DPOP_ALGORITHMS.includes(a)))
      problems.push(
        `dpop.algorithms may only contain asymmetric algorithms (${DEFAULT_DPOP_ALGORITHMS.join(', ')})`,
      );
    else resolved.algorithms = [...new Set(list)];
  }
  const seconds = (name: 'iatWindow' | 'clockTolerance', max: number, allowZero: boolean): void => {
    const v = value[name];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0) || v > max)
      problems.push(
        `dpop.${name} must be a number of seconds between ${allowZero ? 0 : 1} and ${max}`,
      );
    else resolved[name] = v;
  };
  seconds('iatWindow', 3600, false);
  seconds('clockTolerance', 300, true);
  if (value.maxProofSize !== undefined) {
    const v = value.maxProofSize;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 256 || v > 65_536)
      problems.push('dpop.maxProofSize must be an integer between 256 and 65536');
    else resolved.maxProofSize = v;
  }
  resolved.publicUrls = publicUrlsOf(value.publicUrl, problems);
  return resolved;
}

/**
 * `dpop.publicUrl`: one URL or a non-empty list, each http(s) without credentials, query or
 * fragment. Required: the URL a proof names is checked against what the operator says the API
 * is published at, never against the request's own `Host`, which is the client's word.
 */
function publicUrlsOf(value: unknown, problems: string[]): string[] {
  if (value === undefined) {
    problems.push(
      'dpop.publicUrl is required: the URL (or URLs) clients call this API at, which every ' +
        "DPoP proof's htu must match (it is never taken from the request's Host)",
    );
    return [];
  }
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0) {
    problems.push('dpop.publicUrl must be a URL or a non-empty array of URLs');
    return [];
  }
  const urls: string[] = [];
  list.forEach((entry, i) => {
    const name = Array.isArray(value) ? `dpop.publicUrl[${i}]` : 'dpop.publicUrl';
    let url: URL | undefined;
    try {
      url = typeof entry === 'string' ? new URL(entry) : undefined;
    } catch {
      url = undefined;
    }
    if (
      url === undefined ||
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.username !== '' ||
      url.password !== '' ||
      url.search !== '' ||
      url.hash !== ''
    )
      problems.push(`${name} must be an http(s) URL without credentials, query or fragment`);
    else urls.push(`${url.origin}${url.pathname.replace(/\/+$/, '')}`);
  });
  return [...new Set(urls)];
}
