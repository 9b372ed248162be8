import type { ResolvedRiskOptions } from '../../options/validate-options.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';
import { LRUCache } from 'lru-cache';
import { detectInjection, INJECTION_SCAN_LIMITS, type InjectionKind } from './injection-rules.js';

type Options = NonNullable<ResolvedRiskOptions['injection']>;

/** Headers that carry credentials or opaque tokens: never scanned (nor logged). */
const ALWAYS_SKIPPED = new Set(['authorization', 'dpop', 'cookie', 'proxy-authorization']);
const { length: MAX_LENGTH, values: MAX_VALUES, depth: MAX_DEPTH } = INJECTION_SCAN_LIMITS;
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

/** Which scan limit a request went past. */
type Limit = 'length' | 'values' | 'depth';

const LIMITS: Record<Limit, string> = {
  length: `a value longer than ${MAX_LENGTH} characters`,
  values: `more than ${MAX_VALUES} values`,
  depth: `nesting deeper than ${MAX_DEPTH} levels`,
};

/** What a request's scan found: payloads by kind, and limits gone past, each with its part. */
interface Findings {
  kinds?: Map<InjectionKind, Part>;
  limits?: Map<Limit, Part>;
}

/**
 * Injection payloads (SQL injection, XSS, command injection, path traversal) in the path, the
 * query, the headers (except Authorization, DPoP and Cookie) and the body's keys and string
 * values. Each kind found scores `score` and is recorded as `malicious_<kind>`. The payload is
 * never echoed: the reason names the kind and the part of the request only.
 *
 * A risk signal, not a web application firewall: it raises the score of a request that carries
 * a payload, it does not make a query safe (parameterised queries, output encoding and path
 * checks do) and a pattern list can always be outrun. Put a WAF in front to block.
 *
 * Values are matched in normalised forms (see `normalisedForms`). What it does not read is no
 * pass: a value longer than `INJECTION_SCAN_LIMITS.length`, a query or body with more than
 * `values` values, or a body nested deeper than `depth`, is a finding of its own (a third of
 * `score`, recorded as `input_validation_fail`), so padding cannot hide a payload for free.
 *
 * @publicApi
 */
export class InjectionSignal implements RiskSignal {
  readonly name = 'injection';
  private readonly skipHeaders: Set<string>;
  private readonly skipFields: Set<string>;
  private readonly verdicts = new LRUCache<string, readonly InjectionKind[]>({
    max: MEMO_ENTRIES,
    ttl: MEMO_TTL_MS,
  });

  constructor(private readonly options: Options) {
    this.skipHeaders = new Set([...ALWAYS_SKIPPED, ...options.skipHeaders]);
    this.skipFields = new Set(options.skipFields);
  }

  evaluate(input: RiskSignalInput): RiskReason[] {
    // Allocated only when something is found: a clean request (the usual one) allocates little.
    const findings: Findings = {};
    const past = (part: Part, limit: Limit): void => {
      findings.limits ??= new Map();
      if (!findings.limits.has(limit)) findings.limits.set(limit, part);
    };
    const scan = (part: Part, value: string): void => {
      if (value.length > MAX_LENGTH) past(part, 'length');
      const kinds = this.detect(value);
      if (kinds.length === 0) return;
      findings.kinds ??= new Map();
      for (const kind of kinds) if (!findings.kinds.has(kind)) findings.kinds.set(kind, part);
    };
    const url = input.request.originalUrl ?? input.request.url ?? '';
    const question = url.indexOf('?');
    scan('path', question === -1 ? url : url.slice(0, question));
    if (question !== -1) {
      let count = 0;
      for (const [key, value] of new URLSearchParams(url.slice(question + 1))) {
        if (++count > MAX_VALUES) {
          past('query', 'values');
          break;
        }
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
    if (body !== undefined && body !== null) {
      const budget = { count: 0 };
      this.walk(
        body,
        0,
        budget,
        (value) => scan('body', value),
        (limit) => past('body', limit),
      );
    }
    return this.reasons(findings);
  }

  private reasons({ kinds, limits }: Findings): RiskReason[] {
    const reasons: RiskReason[] = [];
    for (const [kind, part] of kinds ?? []) {
      reasons.push({
        signal: this.name,
        score: this.options.score,
        reason: `${NAMES[kind]} payload in the ${part}`,
        event: `malicious_${kind}`,
      });
    }
    for (const [limit, part] of limits ?? []) {
      reasons.push({
        signal: this.name,
        // Lower than a payload: a large request is not an attack, but it is not known clean.
        score: Math.round(this.options.score / 3),
        reason: `${part} not fully scanned for injection: ${LIMITS[limit]}`,
        event: 'input_validation_fail',
      });
    }
    return reasons;
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
    past: (limit: Limit) => void,
  ): void {
    // Numbers and booleans carry no text to scan, whatever their depth.
    if (typeof value !== 'string' && (typeof value !== 'object' || value === null)) return;
    if (budget.count >= MAX_VALUES) return past('values');
    if (depth > MAX_DEPTH) return past('depth');
    if (typeof value === 'string') {
      budget.count++;
      visit(value);
    } else if (Array.isArray(value)) {
      for (const item of value) {
        if (budget.count >= MAX_VALUES) return past('values');
        this.walk(item, depth + 1, budget, visit, past);
      }
    } else if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
      for (const [key, item] of Object.entries(value)) {
        if (this.skipFields.has(key)) continue;
        if (budget.count >= MAX_VALUES) return past('values');
        budget.count++;
        visit(key);
        this.walk(item, depth + 1, budget, visit, past);
      }
    }
  }
}
