/**
 * The failed-authentication limit with its defaults applied, or undefined when it is off.
 *
 * @internal
 */
export interface ResolvedFailureLimit {
  max: number;
  window: number;
}

/**
 * Validates `authenticationFailures` (`{ max, window? }`); problems are pushed, values never
 * echoed.
 *
 * @internal
 */
export function validateFailureLimit(
  value: unknown,
  problems: string[],
): ResolvedFailureLimit | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push('authenticationFailures must be an object { max, window? }');
    return undefined;
  }
  const { max, window = 60, ...rest } = value as Record<string, unknown>;
  for (const key of Object.keys(rest))
    problems.push(`authenticationFailures: unknown option "${key}"`);
  let ok = Object.keys(rest).length === 0;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
    problems.push('authenticationFailures.max must be a positive integer');
    ok = false;
  }
  if (typeof window !== 'number' || !Number.isFinite(window) || window < 1 || window > 86_400) {
    problems.push('authenticationFailures.window must be a number of seconds from 1 to 86400');
    ok = false;
  }
  return ok ? { max: max as number, window: window as number } : undefined;
}
