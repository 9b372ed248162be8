import type { AbilityDefinitions, ClientRegistration } from 'nestjs-zero-trust';

/** Fields an accountant may change on her own draft invoices. */
export const ACCOUNTANT_EDITABLE_FIELDS = ['amount', 'description', 'dueDate', 'status'];

/**
 * The demo's services: each OAuth client has its own identity and roles. Any other client
 * presenting a client-credentials token is refused.
 */
export const DEMO_SERVICES: Record<string, ClientRegistration> = {
  'billing-worker': { roles: ['billing'] },
  'reporting-service': { roles: ['reporting'] },
};

/**
 * What each kind of principal may do in the invoicing API.
 *
 * - admin: read, create and delete every invoice, read reports, revoke tokens;
 * - accountant: read and create invoices, update only her own draft invoices (some fields);
 * - customer: read only the invoices where he is the customer;
 * - billing-worker: record payments and change only the `status` of an invoice;
 * - reporting-service: read reports.
 */
export const DEMO_ABILITIES: AbilityDefinitions = {
  user: (principal, _env, { can }) => {
    if (principal.roles.includes('admin')) {
      can(['read', 'create', 'delete'], 'Invoice');
      can('read', 'Report');
      can('create', 'Revocation');
    }
    if (principal.roles.includes('accountant')) {
      can(['read', 'create'], 'Invoice');
      can('update', 'Invoice', ACCOUNTANT_EDITABLE_FIELDS, {
        ownerId: principal.id,
        status: 'draft',
      });
    }
    if (principal.roles.includes('customer')) {
      can('read', 'Invoice', { customerId: principal.id });
    }
  },
  service: (principal, _env, { can }) => {
    if (principal.roles.includes('billing')) {
      can('create', 'Payment');
      can('update', 'Invoice', ['status']);
    }
    if (principal.roles.includes('reporting')) {
      can('read', 'Report');
    }
  },
};
