import { LRUCache } from 'lru-cache';
import type { RiskReason, RiskSignalInput } from '../risk.types.js';
import { BuiltInSignal } from './built-in.js';
import { detectInjection, INJECTION_SCAN_LIMITS, type InjectionKind } from './injection-rules.js';

// Credentials and opaque tokens: never scanned (nor logged).
const ALWAYS_SKIPPED = new Set(['authorization', 'dpop', 'cookie', 'proxy-authorization']);
const { length: MAX_LENGTH, values: MAX_VALUES, depth: MAX_DEPTH } = INJECTION_SCAN_LIMITS;
// Verdicts on short values (hosts, user agents, paths: the same request after request) are
// remembered: detection is a pure function of the value.
const MEMO_MAX_LENGTH = 512;

const NAMES: Record<InjectionKind, string> = {
  sqli: 'SQL injection',
  xss: 'cross-site scripting',
  cmd_injection: 'command injection',
  path_traversal: 'path traversal',
};

type Part = 'path' | 'query' | 'header' | 'body';

const LIMITS = {
  length: `a value longer than ${MAX_LENGTH} characters`,
  values: `more than ${MAX_VALUES} values`,
  depth: `nesting deeper than ${MAX_DEPTH} levels`,
};
type Limit = keyof typeof LIMITS;

/** Injection payloads in the path, query, headers (not credentials) and body; no WAF. @internal */
export class InjectionSignal extends BuiltInSignal<'injection'> {
  readonly name = 'injection';
  private readonly skipHeaders = new Set([...ALWAYS_SKIPPED, ...this.options.skipHeaders]);
  private readonly skipFields = new Set(this.options.skipFields);
  private readonly verdicts = new LRUCache<string, readonly InjectionKind[]>({ max: 10_000 });

  evaluate({ request }: RiskSignalInput): RiskReason[] {
    const kinds = new Map<InjectionKind, Part>();
    const limits = new Map<Limit, Part>();
    const past = (part: Part, limit: Limit): void => {
      if (!limits.has(limit)) limits.set(limit, part);
    };
    const scan = (part: Part, value: string): void => {
      if (value.length > MAX_LENGTH) past(part, 'length');
      for (const kind of this.detect(value)) if (!kinds.has(kind)) kinds.set(kind, part);
    };
    // The path, then the query: everything after the first `?`.
    const [path = '', query = ''] = (request.originalUrl ?? request.url ?? '').split(/\?(.*)/s);
    scan('path', path);
    let values = 0;
    for (const [key, value] of new URLSearchParams(query)) {
      if (++values > MAX_VALUES) {
        past('query', 'values');
        break;
      }
      scan('query', key);
      scan('query', value);
    }
    // Own names only: a header named like an Object.prototype member is a header like any other.
    for (const [name, value] of Object.entries(request.headers))
      if (value !== undefined && !this.skipHeaders.has(name.toLowerCase()))
        for (const one of [value].flat()) scan('header', one);
    let count = 0;
    const walk = (value: unknown, depth: number): void => {
      // Numbers and booleans carry no text to scan, whatever their depth.
      if (typeof value !== 'string' && (typeof value !== 'object' || value === null)) return;
      if (count >= MAX_VALUES) return past('body', 'values');
      if (depth > MAX_DEPTH) return past('body', 'depth');
      if (typeof value === 'string') {
        count++;
        scan('body', value);
      } else if (Array.isArray(value)) {
        for (const item of value) {
          if (count >= MAX_VALUES) return past('body', 'values');
          walk(item, depth + 1);
        }
      } else if (!Buffer.isBuffer(value)) {
        for (const [key, item] of Object.entries(value)) {
          if (this.skipFields.has(key)) continue;
          if (count >= MAX_VALUES) return past('body', 'values');
          count++;
          scan('body', key);
          walk(item, depth + 1);
        }
      }
    };
    walk(request.body, 0);
    const { score } = this.options;
    return [
      ...[...kinds].map(([kind, part]) =>
        this.found(score, `${NAMES[kind]} payload in the ${part}`, `malicious_${kind}`),
      ),
      // Lower than a payload: a large request is not an attack, but it is not known clean.
      ...[...limits].map(([limit, part]) =>
        this.found(
          Math.round(score / 3),
          `${part} not fully scanned for injection: ${LIMITS[limit]}`,
          'input_validation_fail',
        ),
      ),
    ];
  }

  private detect(value: string): readonly InjectionKind[] {
    if (value.length > MEMO_MAX_LENGTH) return [...detectInjection(value)];
    let kinds = this.verdicts.get(value);
    if (kinds === undefined) this.verdicts.set(value, (kinds = [...detectInjection(value)]));
    return kinds;
  }
}
