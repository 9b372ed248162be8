import { describe, expect, it } from 'vitest';
import type { Principal } from 'nestjs-zero-trust';
import { abilityFor, createTestPrincipal, expectAbility, subject } from 'nestjs-zero-trust/testing';
import { INVOICE_STATUSES, type InvoiceStatus } from './invoices/invoice.entity.js';
import { ADMIN_MAX_RISK, DEMO_ABILITIES, DEMO_SERVICES, demoAbilities } from './policies.js';

const alice = createTestPrincipal({ id: 'alice', roles: ['accountant'] });
const bob = createTestPrincipal({ id: 'bob', roles: ['customer'] });
const carol = createTestPrincipal({ id: 'carol', roles: ['admin'] });
const service = (id: string): Principal =>
  createTestPrincipal({
    kind: 'service',
    id,
    subject: id,
    clientId: id,
    roles: DEMO_SERVICES[id]?.roles ?? [],
  });
const billingWorker = service('billing-worker');
const reportingService = service('reporting-service');

const aliceDraft = subject('Invoice', {
  id: 'inv-1',
  ownerId: 'alice',
  customerId: 'bob',
  status: 'draft',
});
const aliceIssued = subject('Invoice', {
  id: 'inv-2',
  ownerId: 'alice',
  customerId: 'dave',
  status: 'issued',
});
const erinDraft = subject('Invoice', {
  id: 'inv-3',
  ownerId: 'erin',
  customerId: 'bob',
  status: 'draft',
});

/**
 * The demo's whole policy, as a matrix: each principal against each action. `true` = allowed
 * on at least one record (type-level); record-level rules are checked below.
 */
const MATRIX: [string, Principal, Record<string, boolean>][] = [
  [
    'alice (accountant)',
    alice,
    {
      'read Invoice': true,
      'create Invoice': true,
      'update Invoice': true,
      'delete Invoice': false,
      'create Payment': false,
      'read Report': false,
      'create Revocation': false,
    },
  ],
  [
    'bob (customer)',
    bob,
    {
      'read Invoice': true,
      'create Invoice': false,
      'update Invoice': false,
      'delete Invoice': false,
      'create Payment': false,
      'read Report': false,
      'create Revocation': false,
    },
  ],
  [
    'carol (admin)',
    carol,
    {
      'read Invoice': true,
      'create Invoice': true,
      'update Invoice': false,
      'delete Invoice': true,
      'create Payment': false,
      'read Report': true,
      'create Revocation': true,
    },
  ],
  [
    'billing-worker',
    billingWorker,
    {
      'read Invoice': true,
      'create Invoice': false,
      'update Invoice': true,
      'delete Invoice': false,
      'create Payment': true,
      'read Report': false,
      'create Revocation': false,
    },
  ],
  [
    'reporting-service',
    reportingService,
    {
      'read Invoice': false,
      'create Invoice': false,
      'update Invoice': false,
      'delete Invoice': false,
      'create Payment': false,
      'read Report': true,
      'create Revocation': false,
    },
  ],
];

describe('demo policies', () => {
  describe.each(MATRIX)('%s', (_name, principal, expected) => {
    it.each(Object.entries(expected))('%s → %s', async (pair, allowed) => {
      const [action, type] = pair.split(' ') as [string, string];
      const ability = await abilityFor(DEMO_ABILITIES, principal);
      if (allowed) expectAbility(ability).toAllow(action, type);
      else expectAbility(ability).toDeny(action, type);
    });
  });

  it('gives a principal kind without a definition nothing at all', async () => {
    const integration = createTestPrincipal({
      kind: 'integration',
      id: 'partner',
      roles: ['admin'],
    });
    const ability = await abilityFor(DEMO_ABILITIES, integration);
    expect(ability.rules).toEqual([]);
  });

  it('bob reads only invoices where he is the customer', async () => {
    const ability = await abilityFor(DEMO_ABILITIES, bob);
    expectAbility(ability).toAllow('read', aliceDraft);
    expectAbility(ability).toAllow('read', erinDraft);
    expectAbility(ability).toDeny('read', aliceIssued);
  });

  it('alice updates only her own drafts, and not their owner or customer', async () => {
    const ability = await abilityFor(DEMO_ABILITIES, alice);
    expectAbility(ability).toAllow('update', aliceDraft);
    expectAbility(ability).toAllow('update', aliceDraft, 'amount');
    expectAbility(ability).toDeny('update', aliceDraft, 'ownerId');
    expectAbility(ability).toDeny('update', aliceDraft, 'customerId');
    expectAbility(ability).toDeny('update', aliceIssued);
    expectAbility(ability).toDeny('update', erinDraft);
  });

  it('billing-worker changes only the status field, of issued invoices, and reads only those', async () => {
    const ability = await abilityFor(DEMO_ABILITIES, billingWorker);
    expectAbility(ability).toAllow('update', aliceIssued, 'status');
    expectAbility(ability).toDeny('update', aliceIssued, 'amount');
    expectAbility(ability).toDeny('update', aliceDraft, 'status');
    expectAbility(ability).toAllow('read', aliceIssued);
    expectAbility(ability).toDeny('read', aliceDraft);
  });

  const transition = (from: InvoiceStatus, to: InvoiceStatus) =>
    subject('InvoiceTransition', { id: 'inv-2', from, to });
  const allTransitions = INVOICE_STATUSES.flatMap((from) =>
    INVOICE_STATUSES.map((to) => [from, to] as const),
  );

  it.each(allTransitions)(
    'billing-worker moves an invoice %s -> %s only if it is issued -> paid',
    async (from, to) => {
      const ability = await abilityFor(DEMO_ABILITIES, billingWorker);
      if (from === 'issued' && to === 'paid')
        expectAbility(ability).toAllow('update', transition(from, to));
      else expectAbility(ability).toDeny('update', transition(from, to));
    },
  );

  it.each(allTransitions)(
    'an accountant moves an invoice %s -> %s only from draft, never to paid',
    async (from, to) => {
      const ability = await abilityFor(DEMO_ABILITIES, alice);
      if (from === 'draft' && to !== 'paid')
        expectAbility(ability).toAllow('update', transition(from, to));
      else expectAbility(ability).toDeny('update', transition(from, to));
    },
  );

  it.each(INVOICE_STATUSES)(
    'billing-worker records a payment against a %s invoice only if issued',
    async (status) => {
      const ability = await abilityFor(DEMO_ABILITIES, billingWorker);
      const payment = subject('Payment', {
        invoiceId: 'inv-2',
        amount: 1,
        invoice: { id: 'inv-2', status },
      });
      if (status === 'issued') expectAbility(ability).toAllow('create', payment);
      else expectAbility(ability).toDeny('create', payment);
    },
  );

  it('refuses a payment that names no invoice', async () => {
    const ability = await abilityFor(DEMO_ABILITIES, billingWorker);
    expectAbility(ability).toDeny(
      'create',
      subject('Payment', { invoiceId: 'inv-404', amount: 1 }),
    );
  });

  it('a role given to the wrong kind grants nothing: a service named admin is not an admin', async () => {
    const impostor = createTestPrincipal({ kind: 'service', id: 'rogue', roles: ['admin'] });
    const ability = await abilityFor(DEMO_ABILITIES, impostor);
    expectAbility(ability).toDeny('delete', 'Invoice');
  });

  it('admins act only at low risk (env.risk)', async () => {
    const admin = createTestPrincipal({ id: 'carol', roles: ['admin'] });
    const low = await abilityFor(DEMO_ABILITIES, admin, { risk: ADMIN_MAX_RISK });
    expectAbility(low).toAllow('delete', 'Invoice');
    const high = await abilityFor(DEMO_ABILITIES, admin, { risk: ADMIN_MAX_RISK + 1 });
    expectAbility(high).toDeny('delete', 'Invoice');
    expectAbility(high).toDeny('create', 'Revocation');
  });

  it('reporting-service reads reports only inside its UTC window (env.time)', async () => {
    const reporting = createTestPrincipal({
      kind: 'service',
      id: 'reporting-service',
      roles: ['reporting'],
    });
    const office = demoAbilities({ reportsWindow: '08:00-18:00' });
    const at = (iso: string) => abilityFor(office, reporting, { time: new Date(iso) });
    expectAbility(await at('2026-03-02T08:00:00Z')).toAllow('read', 'Report');
    expectAbility(await at('2026-03-02T17:59:00Z')).toAllow('read', 'Report');
    expectAbility(await at('2026-03-02T18:00:00Z')).toDeny('read', 'Report');
    expectAbility(await at('2026-03-02T03:00:00Z')).toDeny('read', 'Report');
  });
});
