/**
 * A value read from a fetched document, for a log line or an error message: a string quoted and
 * cut at 200 characters, anything else named by its type, never echoed whole.
 *
 * @internal
 */
export function shownValue(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? 'none' : `a ${typeof value}`;
  const quoted = JSON.stringify(value);
  return quoted.length > 202 ? `${quoted.slice(0, 201)}…"` : quoted;
}
