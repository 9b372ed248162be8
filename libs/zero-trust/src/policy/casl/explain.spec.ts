import { subject } from '@casl/ability';
import { describe, expect, it } from 'vitest';
import { abilityFor, createTestPrincipal } from '../../testing/ability-testing.js';
import type { AbilityDefinitions } from '../../authorization/ability.types.js';
import { explainDenial } from './explain.js';

const definitions: AbilityDefinitions = {
  user: (principal, _env, { can, cannot }) => {
    can('read', 'Invoice');
    can('update', 'Invoice', ['amount', 'status'], { ownerId: principal.id, status: 'draft' });
    can('create', 'Payment', ['amount']);
    cannot('read', 'Invoice', { archived: true }).because('archived invoices are sealed');
  },
};

describe('explainDenial', () => {
  it('names the inverted rule and its reason', async () => {
    const ability = await abilityFor(definitions, createTestPrincipal({ id: 'alice' }));
    const archived = subject('Invoice', { id: 'inv-1', archived: true });
    expect(ability.can('read', archived)).toBe(false);
    expect(explainDenial(ability, 'read', archived, 'Invoice')).toEqual({
      kind: 'inverted',
      description: 'cannot read Invoice if { archived }',
      reason: 'archived invoices are sealed',
    });
  });

  it('names a rule whose conditions the record does not meet, without the values', async () => {
    const ability = await abilityFor(definitions, createTestPrincipal({ id: 'alice' }));
    const others = subject('Invoice', { id: 'inv-2', ownerId: 'bob', status: 'draft' });
    expect(ability.can('update', others)).toBe(false);
    const rule = explainDenial(ability, 'update', others, 'Invoice');
    expect(rule).toEqual({
      kind: 'conditions',
      description:
        'can update Invoice (fields: amount, status) if { ownerId, status }: the conditions do not match this record',
    });
    expect(rule.description).not.toContain('bob');
  });

  it('says when the rules grant the action but not the field', async () => {
    const ability = await abilityFor(definitions, createTestPrincipal({ id: 'alice' }));
    expect(ability.can('create', 'Payment', 'invoiceId')).toBe(false);
    expect(explainDenial(ability, 'create', 'Payment', 'Payment', 'invoiceId')).toEqual({
      kind: 'fields',
      description: 'can create Payment (fields: amount): the field "invoiceId" is not granted',
    });
  });

  it('says that no rule grants the action', async () => {
    const ability = await abilityFor(definitions, createTestPrincipal({ id: 'alice' }));
    expect(explainDenial(ability, 'delete', 'Invoice', 'Invoice')).toEqual({
      kind: 'none',
      description: 'no rule grants delete on Invoice',
    });
  });
});
