import type { QueryCondition } from '../authorization/authorization.service.js';

/** A node of a Cerbos query plan, as `@cerbos/grpc` and `@cerbos/http` return it. @publicApi */
export type CerbosPlanOperand =
  | { readonly operator: string; readonly operands: readonly CerbosPlanOperand[] }
  | { readonly name: string }
  | { readonly value: unknown };

/** Thrown for a plan node the translation does not know: the list fails closed. @publicApi */
export class UnsupportedPlanError extends Error {
  override readonly name = 'UnsupportedPlanError';
}

const ATTRIBUTE = 'request.resource.attr.';
const COMPARISONS: Record<string, [string, string]> = {
  // operator: [as written, mirrored when the value is on the left]
  eq: ['$eq', '$eq'],
  ne: ['$ne', '$ne'],
  lt: ['$lt', '$gt'],
  le: ['$lte', '$gte'],
  gt: ['$gt', '$lt'],
  ge: ['$gte', '$lte'],
  in: ['$in', '$in'],
};

function fieldOf(node: CerbosPlanOperand): string | undefined {
  if (!('name' in node)) return undefined;
  if (!node.name.startsWith(ATTRIBUTE))
    throw new UnsupportedPlanError(`the plan reads ${node.name}, not a resource attribute`);
  const field = node.name.slice(ATTRIBUTE.length);
  // A key starting with `$` would be an operator to the query that receives the condition.
  if (field.split('.').some((part) => part === '' || part.startsWith('$')))
    throw new UnsupportedPlanError(`the attribute "${field}" is not a plain field name`);
  return field;
}

/**
 * A Cerbos query plan's condition as the MongoDB-style condition CASL's `conditionFor` gives
 * (`and`/`or`/`not`, comparisons, `in`), so one repository query serves both engines.
 * @throws {UnsupportedPlanError} for any other operator or shape (never a guess)
 * @publicApi
 */
export function planToCondition(node: CerbosPlanOperand): QueryCondition {
  if ('name' in node) return { [fieldOf(node) as string]: true };
  if (!('operator' in node)) throw new UnsupportedPlanError('a bare value is not a condition');
  const { operator, operands } = node;
  if (operator === 'and' || operator === 'or')
    return { [`$${operator}`]: operands.map(planToCondition) };
  if (operator === 'not' && operands.length === 1)
    return { $nor: [planToCondition(operands[0] as CerbosPlanOperand)] };
  const comparison = COMPARISONS[operator];
  const [left, right] = operands as [CerbosPlanOperand, CerbosPlanOperand];
  if (comparison === undefined || operands.length !== 2)
    throw new UnsupportedPlanError(`the plan operator "${operator}" is not translated`);
  const leftField = fieldOf(left);
  const field = leftField ?? fieldOf(right);
  const value = leftField === undefined ? left : right;
  if (field === undefined || !('value' in value))
    throw new UnsupportedPlanError(`"${operator}" must compare a resource attribute with a value`);
  const op = comparison[leftField === undefined ? 1 : 0];
  if (operator === 'in' && leftField === undefined)
    throw new UnsupportedPlanError('"in" with the attribute on the right is not translated');
  // A value may come from the principal's claims: an object there must stay a value, never read
  // as operators (`{ $ne: null }` would match every record), so only a primitive is written bare.
  const primitive = value.value === null || typeof value.value !== 'object';
  return op === '$eq' && primitive ? { [field]: value.value } : { [field]: { [op]: value.value } };
}
