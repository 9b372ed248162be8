import * as z from 'zod';
import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import { ownRecord } from '../utils/own-keys.js';

// Building blocks of the option schemas, and where their issues become the problems of a
// ZeroTrustConfigurationError: a problem names the path, never the value (it may be a secret).

const UNKNOWN_OPTION = 'unknown option';
/** Issues saying the value has the wrong type altogether (a union branch that did not match). */
const TYPE_MISMATCH = new Set(['invalid_type', 'invalid_value', 'invalid_union']);

/**
 * An object of options that refuses unknown keys. Unlike `z.strictObject`, its type keeps the
 * shape as written, so each key's TSDoc survives into the declarations.
 */
export const optionsObject = <S extends z.ZodRawShape>(
  shape: S,
  params?: Parameters<typeof z.strictObject>[1],
): z.ZodObject<S, z.core.$strict> => z.strictObject(shape, params);

/** Every issue of a schema made with `says(message)` reads `message`. */
export const says = (message: string) => ({ error: message });

/** A problem a refinement or check reports, at `path` under the value checked. */
export const customIssue = (message: string, path: PropertyKey[] = []) =>
  ({ code: 'custom', message, path, input: undefined }) as const;

/** Whether `value` is an object (an array too), whose keys may be read. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** Runs a refinement even when a field has a problem (it must check the types it reads). */
export const evenWithOtherProblems = {
  when: (payload: { value: unknown }) => isObject(payload.value),
};

/** A number in `[min, max]` (an integer when `integer`); every failure reads `message`. */
export function numberIn(min: number, max: number, message: string, integer = false) {
  const n = z.number(says(message)).min(min).max(max);
  return integer ? n.int() : n;
}

/** A number above zero. */
export const positive = (message: string) => z.number(says(message)).positive();

/**
 * A value of type `T` when `check` holds, passed through. A refinement, since a failed
 * `z.custom(check)` would stop the refinements that compare fields.
 */
export const shaped = <T>(check: (value: unknown) => boolean, message: string) =>
  z.custom<T>().refine(check, says(message));

/** A function, passed through as it is. */
export const func = <T>(message: string) => shaped<T>((v) => typeof v === 'function', message);

/** An object with these methods (a store, a sink, a client), passed through as it is. */
export const implementing = <T>(methods: readonly string[], message: string) =>
  shaped<T>((v) => isObject(v) && methods.every((m) => typeof v[m] === 'function'), message);

/**
 * A map keyed by outside names, resolved as a null-prototype record (zod's `record` builds a
 * plain object, where `__proto__` would replace the prototype).
 */
export function ownMap<V extends z.ZodType>(value: V, message: string) {
  return z
    .custom<Record<string, z.input<V>>>()
    .check((ctx) => {
      if (!isObject(ctx.value) || Array.isArray(ctx.value)) {
        ctx.issues.push(customIssue(message));
        return;
      }
      for (const [key, item] of Object.entries(ctx.value)) {
        const result = value.safeParse(item, { error: defaultMessage });
        for (const issue of result.error?.issues ?? [])
          ctx.issues.push({ ...issue, path: [key, ...issue.path], input: undefined });
      }
    })
    .transform((record) => ownRecord(record as Record<string, z.output<V>>));
}

/** `enforce` refuses denied requests; `report-only` records "would deny" and lets them through. */
export const zeroTrustMode = z.enum(['enforce', 'report-only']);

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** Whether a URL may be fetched for keys: HTTPS, or HTTP on a loopback host only. @internal */
export function isAcceptableKeyUrl(value: string): boolean {
  const url = URL.parse(value);
  if (url === null || url.username || url.password || url.hash) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname));
}

/** Normalizes a `typ` (RFC 7515 §4.1.9): case-insensitive, `application/` optional. @internal */
export function normalizeType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/**
 * Parses options with `schema`: the resolved value, or every problem in one `ZT_OPTIONS_INVALID`
 * {@link ZeroTrustConfigurationError} that names the whole value `label`. @internal
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  label = 'options',
): z.output<S> {
  const result = schema.safeParse(input, { error: defaultMessage });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => problemsOf(issue, [], label));
  throw new ZeroTrustConfigurationError('ZT_OPTIONS_INVALID', problems);
}

/** What an issue says when its schema gives no message of its own. */
function defaultMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'invalid_value':
      return `must be ${oneOf(issue.values.map((v) => JSON.stringify(v)))}`;
    case 'unrecognized_keys':
      return UNKNOWN_OPTION;
    case 'too_small':
      return issue.origin === 'array' ? 'must not be empty' : `must be at least ${issue.minimum}`;
    case 'too_big':
      return `must be at most ${issue.maximum}`;
    default:
      return undefined;
  }
}

function oneOf(values: string[]): string {
  return values.length < 2
    ? values.join('')
    : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

function problemsOf(issue: z.core.$ZodIssue, base: PropertyKey[], label: string): string[] {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union') {
    // The branch whose type the value has (an object for `false | { ... }`) says what is wrong.
    const matched = issue.errors.filter(
      (branch) => !branch.some((i) => i.path.length === 0 && TYPE_MISMATCH.has(i.code)),
    );
    const [branch] = matched;
    if (matched.length === 1 && branch) return branch.flatMap((i) => problemsOf(i, path, label));
  }
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) =>
      issue.message === UNKNOWN_OPTION
        ? `unknown option "${pathText([...path, key])}"`
        : `${pathText([...path, key])}: ${issue.message}`,
    );
  if (path.length > 0) return [`${pathText(path)} ${issue.message}`];
  // A rule across options, stated as a whole sentence, or the value itself is wrong.
  return [issue.code === 'custom' ? issue.message : `${label} ${issue.message}`];
}

/** `risk.usage.hours.alice`, `trustedProxies[0]`, `principals.services["billing-worker"]`. */
function pathText(path: PropertyKey[]): string {
  return path
    .map((key, i) => {
      if (typeof key === 'number') return `[${key}]`;
      const name = String(key).slice(0, 40);
      if (/^[A-Za-z_$][\w$]*$/.test(name)) return i === 0 ? name : `.${name}`;
      return `[${JSON.stringify(name)}]`;
    })
    .join('');
}
