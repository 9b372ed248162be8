import type { AbilityDefinitions, ZeroTrustAbility } from '../authorization/ability.types.js';
import type { PrincipalKind } from '../identity/principal.interface.js';
import { abilityFor, createTestPrincipal } from './ability-testing.js';

/** One row of a permission matrix: a kind of principal with roles. @publicApi */
export interface MatrixPrincipal {
  kind: PrincipalKind;
  /** Roles the principal holds. */
  roles: string[];
  /** Row title. @default `<kind> <roles>` */
  label?: string;
  /** The principal's id (a service's client id). @default the label */
  id?: string;
}

/** What a permission matrix covers. @publicApi */
export interface PermissionMatrixOptions {
  principals: MatrixPrincipal[];
  actions: string[];
  subjects: string[];
  /** Heading of the document. @default 'Permission matrix' */
  title?: string;
}

type Rule = ReturnType<ZeroTrustAbility['rulesFor']>[number];

function describeGrant({ fields, conditions }: Rule): string {
  const parts: string[] = [];
  if (fields !== undefined) parts.push(`fields: ${[fields].flat().map(String).join(', ')}`);
  if (conditions !== undefined) parts.push(`if ${Object.keys(conditions).join(', ')}`);
  return parts.join('; ');
}

/** One cell: ✅, ✅ with the conditions/fields of each granting rule, or —. */
function cell(ability: ZeroTrustAbility, action: string, subject: string): string {
  const rules = ability.rulesFor(action, subject);
  const grants = rules.filter((r) => !r.inverted);
  if (grants.length === 0 || !ability.can(action, subject)) return '—';
  if (grants.some((r) => r.fields === undefined && r.conditions === undefined)) {
    const exceptions = rules.filter((r) => r.inverted).map(describeGrant);
    return exceptions.length > 0 ? `✅ except ${exceptions.join(' / ')}` : '✅';
  }
  return `✅ conditional (${grants.map(describeGrant).join(' / ')})`;
}

/** What each principal may do, from your definitions, as Markdown tables by subject. @publicApi */
export async function renderPermissionMatrix(
  definitions: AbilityDefinitions,
  options: PermissionMatrixOptions,
): Promise<string> {
  const rows = await Promise.all(
    options.principals.map(async (p) => {
      const label = p.label ?? `${p.kind} ${p.roles.join(', ')}`.trim();
      const principal = createTestPrincipal({ kind: p.kind, id: p.id ?? label, roles: p.roles });
      const ability = await abilityFor(definitions, principal, {
        time: new Date(0),
        requestId: 'permission-matrix',
      });
      return { label, kind: p.kind, ability };
    }),
  );
  const out = [
    `# ${options.title ?? 'Permission matrix'}`,
    '',
    'Rendered from the ability definitions; ✅ allowed, ✅ conditional (…) allowed only on records',
    'meeting the named conditions or for the named fields, — refused (default deny).',
    '',
  ];
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  const { actions } = options;
  for (const subject of options.subjects) {
    out.push(`## ${subject}`, '', `| principal | ${actions.map(escape).join(' | ')} |`);
    out.push(`|---|${actions.map(() => '---').join('|')}|`);
    for (const row of rows) {
      const cells = actions.map((action) => escape(cell(row.ability, action, subject)));
      out.push(`| ${escape(`${row.label} (${row.kind})`)} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
