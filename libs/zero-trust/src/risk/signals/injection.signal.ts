import type { ResolvedRiskOptions } from '../../options/validate-risk.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';
import { LruCache } from '../../utils/lru-cache.js';
import { detectInjection, type InjectionKind } from './injection-rules.js';

type Options = NonNullable<ResolvedRiskOptions['injection']>;

/** Headers that carry credentials or opaque tokens: never scanned (nor logged). */
const ALWAYS_SKIPPED = new Set(['authorization', 'dpop', 'cookie', 'proxy-authorization']);
const MAX_VALUES = 1000;
const MAX_DEPTH = 12;
/**
 * Verdicts on short values are remembered: the same host, user agent, accept header and paths
 * come with request after request, and each value is otherwise tested against every rule.
 * Detection is a pure function of the value, so a remembered verdict is the verdict.
 */
const MEMO_MAX_LENGTH = 512;
const MEMO_ENTRIES = 10_000;
const MEMO_TTL_MS = 10 * 60_000;
const NOTHING: readonly InjectionKind[] = [];

const NAMES: Record<InjectionKind, string> = {
  sqli: 'SQL injection',
  xss: 'cross-site scripting',
  cmd_injection: 'command injection',
  path_traversal: 'path traversal',
};

type Part = 'path' | 'query' | 'header' | 'body';

/**
 * Injection payloads (SQL injection, XSS, command injection, path traversal) in the path, the
 * query, the headers (except Authorization, DPoP and Cookie) and the body's keys and string
 * values. Each kind found scores `score` and is recorded as `malicious_<kind>`. The payload is
 * never echoed: the reason names the kind and the part of the request only.
 *
 * @publicApi
 */
export class InjectionSignal implements RiskSignal {
  readonly name = 'injection';
  private readonly skipHeaders: Set<string>;
  private readonly skipFields: Set<string>;
  private readonly verdicts = new LruCache<string, readonly InjectionKind[]>(
    MEMO_ENTRIES,
    MEMO_TTL_MS,
  );

  constructor(private readonly options: Options) {
    this.skipHeaders = new Set([...ALWAYS_SKIPPED, ...options.skipHeaders]);
    this.skipFields = new Set(options.skipFields);
  }

  evaluate(input: RiskSignalInput): RiskReason[] {
    // Allocated only when something is found: a clean request (the usual one) allocates little.
    let found: Map<InjectionKind, Part> | undefined;
    const scan = (part: Part, value: string): void => {
      const kinds = this.detect(value);
      if (kinds.length === 0) return;
      found ??= new Map();
      for (const kind of kinds) if (!found.has(kind)) found.set(kind, part);
    };
    const url = input.request.originalUrl ?? input.request.url ?? '';
    const question = url.indexOf('?');
    scan('path', question === -1 ? url : url.slice(0, question));
    if (question !== -1) {
      for (const [key, value] of new URLSearchParams(url.slice(question + 1))) {
        scan('query', key);
        scan('query', value);
      }
    }
    const headers = input.request.headers;
    // Own names only: a header named like an Object.prototype member is a header like any other.
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value === undefined || this.skipHeaders.has(name.toLowerCase())) continue;
      if (typeof value === 'string') scan('header', value);
      else for (const one of value) scan('header', one);
    }
    const body = input.request.body;
    if (body !== undefined && body !== null)
      this.walk(body, 0, { count: 0 }, (value) => scan('body', value));
    if (found === undefined) return [];
    return [...found].map(([kind, part]) => ({
      signal: this.name,
      score: this.options.score,
      reason: `${NAMES[kind]} payload in the ${part}`,
      event: `malicious_${kind}`,
    }));
  }

  /** The kinds found in `value`, remembered for short values. */
  private detect(value: string): readonly InjectionKind[] {
    if (value.length > MEMO_MAX_LENGTH) return [...detectInjection(value)];
    let kinds = this.verdicts.get(value);
    if (kinds === undefined) {
      const found = detectInjection(value);
      kinds = found.size === 0 ? NOTHING : [...found];
      this.verdicts.set(value, kinds);
    }
    return kinds;
  }

  private walk(
    value: unknown,
    depth: number,
    budget: { count: number },
    visit: (value: string) => void,
  ): void {
    if (budget.count >= MAX_VALUES || depth > MAX_DEPTH) return;
    if (typeof value === 'string') {
      budget.count++;
      visit(value);
    } else if (Array.isArray(value)) {
      for (const item of value) this.walk(item, depth + 1, budget, visit);
    } else if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
      for (const [key, item] of Object.entries(value)) {
        if (this.skipFields.has(key)) continue;
        budget.count++;
        visit(key);
        this.walk(item, depth + 1, budget, visit);
      }
    }
  }
}
