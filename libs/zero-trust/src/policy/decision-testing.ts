import type { AbilityDefinitions } from '../authorization/ability.types.js';
import type { QueryCondition } from '../authorization/authorization.service.js';
import type { Principal, PrincipalKind } from '../identity/principal.interface.js';
import { createTestPrincipal } from '../testing/ability-testing.js';
import { CaslDecisionPoint } from './casl-decision-point.js';
import type { PolicyDecisionPoint, PolicyEnvironment } from './decision-point.js';

/** Either engine: CASL definitions, or a decision point (e.g. `CerbosDecisionPoint`). @publicApi */
export type PolicyEngine = AbilityDefinitions | PolicyDecisionPoint;

/** One question to an engine. @publicApi */
export interface PolicyQuestion {
  principal: Principal;
  action: string;
  /** The resource kind (the `@Can` subject). */
  kind: string;
  /** The record; absent: may the principal do it to *some* record of the kind? */
  record?: Record<string, unknown>;
  /** Fields the request touches. */
  fields?: string[];
  /** The request's environment. @default now, 127.0.0.1, no risk */
  environment?: Partial<PolicyEnvironment>;
}

const asPoint = (engine: PolicyEngine): PolicyDecisionPoint =>
  typeof (engine as PolicyDecisionPoint).check === 'function'
    ? (engine as PolicyDecisionPoint)
    : new CaslDecisionPoint(engine as AbilityDefinitions);

/** Whether `engine` allows `question` (the action and every field). @publicApi */
export async function decide(engine: PolicyEngine, question: PolicyQuestion): Promise<boolean> {
  const pdp = asPoint(engine);
  const { principal, action, kind, record, fields = [] } = question;
  const environment = {
    time: new Date(),
    ip: '127.0.0.1',
    requestId: 'test',
    ...question.environment,
  };
  if (record === undefined) {
    const plan = await pdp.plan(principal, environment, kind, action, fields);
    return plan.condition !== null && plan.refusedFields.length === 0;
  }
  const id = typeof record.id === 'string' ? record.id : undefined;
  const resource = { kind, attributes: record, ...(id === undefined ? {} : { id }) };
  const [verdict] = await pdp.check(principal, environment, [{ resource, action, fields }]);
  return verdict?.allowed === true && verdict.refusedFields.length === 0;
}

/**
 * Asserts a decision in one line, against either engine:
 * `await expectDecision(engine, { principal, action: 'update', kind: 'Invoice', record }, 'allow')`.
 * @throws an `AssertionError` naming the question when the engine decides otherwise
 * @publicApi
 */
export async function expectDecision(
  engine: PolicyEngine,
  question: PolicyQuestion,
  expected: 'allow' | 'deny',
): Promise<void> {
  const allowed = await decide(engine, question);
  if (allowed === (expected === 'allow')) return;
  const { principal, action, kind, record } = question;
  const error = new Error(
    `expected ${asPoint(engine).engine} to ${expected} ${principal.kind} ${principal.id} ${action} ${kind}${record === undefined ? '' : ` ${JSON.stringify(record)}`}`,
  );
  error.name = 'AssertionError';
  throw error;
}

/** The attribute names a query condition reads, sorted (operators left out). */
function attributesOf(condition: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(condition)) for (const item of condition) attributesOf(item, into);
  else if (typeof condition === 'object' && condition !== null)
    for (const [key, value] of Object.entries(condition)) {
      if (!key.startsWith('$')) into.add(key);
      else attributesOf(value, into);
    }
  return into;
}

/** What a decision matrix covers. @publicApi */
export interface DecisionMatrixOptions {
  principals: { kind: PrincipalKind; roles: string[]; label?: string; id?: string }[];
  actions: string[];
  kinds: string[];
  /** The environment of every question. @default time 0 (1970-01-01T00:00Z), no risk */
  environment?: Partial<PolicyEnvironment>;
  title?: string;
}

/**
 * The permission matrix as any engine answers it (its plans): ✅ on every record, `if <attributes>`
 * on some (the attributes the condition reads), — on none. Two engines with the same policies
 * render the same text. @publicApi
 */
export async function renderDecisionMatrix(
  engine: PolicyEngine,
  options: DecisionMatrixOptions,
): Promise<string> {
  const pdp = asPoint(engine);
  const env = { time: new Date(0), ip: '127.0.0.1', requestId: 'matrix', ...options.environment };
  const lines = [`# ${options.title ?? 'Decision matrix'}`, ''];
  for (const kind of options.kinds) {
    lines.push(`## ${kind}`, '', `| principal | ${options.actions.join(' | ')} |`);
    lines.push(`|---|${options.actions.map(() => '---').join('|')}|`);
    for (const row of options.principals) {
      const label = row.label ?? `${row.kind} ${row.roles.join(', ')}`.trim();
      const principal = createTestPrincipal({
        kind: row.kind,
        id: row.id ?? label,
        roles: row.roles,
      });
      const cells = await Promise.all(
        options.actions.map(async (action) => {
          const { condition } = await pdp.plan(principal, env, kind, action);
          return cellOf(condition);
        }),
      );
      lines.push(`| ${label} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function cellOf(condition: QueryCondition | null): string {
  if (condition === null) return '—';
  const attributes = [...attributesOf(condition)].sort();
  return attributes.length === 0 ? '✅' : `✅ if ${attributes.join(', ')}`;
}
