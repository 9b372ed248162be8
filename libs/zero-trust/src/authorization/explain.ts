// CASL's rules in words, for decision records (the CASL side of the policy decision point).
import type { DecisionRule } from '../audit/decision-event.interface.js';
import { compact } from '../utils/compact.js';
import type { ZeroTrustAbility } from './ability.types.js';

type RuleLike = ReturnType<ZeroTrustAbility['rulesFor']>[number];

function names(value: unknown): string {
  const name = (v: unknown) => (typeof v === 'function' ? (v as { name: string }).name : String(v));
  return [value].flat().map(name).join(', ');
}

/** A rule in words, naming the condition keys but never their values (they may hold ids). */
function describeRule(rule: RuleLike): string {
  const fields = rule.fields === undefined ? '' : ` (fields: ${names(rule.fields)})`;
  const conditions =
    rule.conditions === undefined || typeof rule.conditions !== 'object'
      ? ''
      : ` if { ${Object.keys(rule.conditions).join(', ')} }`;
  return `${rule.inverted ? 'cannot' : 'can'} ${names(rule.action)} ${names(rule.subject)}${fields}${conditions}`;
}

/** Why `ability` refuses `action` on `target` (tagged record or type), or on a field. @internal */
export function explainDenial(
  ability: ZeroTrustAbility,
  action: string,
  target: object | string,
  subjectType: string,
  field?: string,
): DecisionRule {
  const relevant = ability.relevantRuleFor(action, target as string, field);
  if (relevant?.inverted) {
    const reason = relevant.reason || undefined;
    return compact({ kind: 'inverted', description: describeRule(relevant), reason });
  }
  const granting = (f?: string) =>
    ability.rulesFor(action, subjectType, f).filter((r) => !r.inverted);
  const conditional = granting(field).find((r) => r.conditions !== undefined);
  if (conditional !== undefined) {
    const description = `${describeRule(conditional)}: the conditions do not match this record`;
    return { kind: 'conditions', description };
  }
  const granted = field === undefined ? undefined : granting()[0];
  if (granted !== undefined) {
    const description = `${describeRule(granted)}: the field "${field}" is not granted`;
    return { kind: 'fields', description };
  }
  return { kind: 'none', description: `no rule grants ${action} on ${subjectType}` };
}

/** The rule that lets `ability` do `action` on `target`, in words. @internal */
export function explainAllow(
  ability: ZeroTrustAbility,
  action: string,
  target: object | string,
): DecisionRule {
  const relevant = ability.relevantRuleFor(action, target as string);
  return compact({
    kind: 'granted',
    description: relevant === null ? `a rule grants ${action}` : describeRule(relevant),
    reason: relevant?.reason || undefined,
  });
}
