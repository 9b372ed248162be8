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
  /** Origin plus path prefix without trailing slash, e.g. `https://api.example.com/v1`. */
  publicUrl: string | undefined;
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
    publicUrl: undefined,
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
  if (value.publicUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = typeof value.publicUrl === 'string' ? new URL(value.publicUrl) : undefined;
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
      problems.push('dpop.publicUrl must be an http(s) URL without credentials, query or fragment');
    else resolved.publicUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  }
  return resolved;
}
