import { inUtcWindow, type AbilityDefinitions, type ClientRegistration } from 'nestjs-zero-trust';

/** Fields an accountant may change on her own draft invoices. */
export const ACCOUNTANT_EDITABLE_FIELDS = ['amount', 'description', 'dueDate', 'status'];

/**
 * The demo's services: each OAuth client has its own identity and roles. Any other client
 * presenting a client-credentials token is refused.
 */
export const DEMO_SERVICES: Record<string, ClientRegistration> = {
  'billing-worker': { roles: ['billing'] },
  'reporting-service': { roles: ['reporting'] },
  // Prometheus: may read /metrics and nothing else.
  'metrics-scraper': { roles: ['metrics'] },
};

/** The `acr` of a password + one-time-code login at the demo IdP (step-up target). */
export const DEMO_MFA_ACR = 'urn:demo:acr:mfa';

/** Admins act only while the request's risk score is at most this. */
export const ADMIN_MAX_RISK = 40;

/** Settings of the demo policies. */
export interface DemoPolicySettings {
  /** When reporting-service may read reports, `HH:MM-HH:MM` UTC. @default the whole day */
  reportsWindow?: string;
}

/**
 * What each kind of principal may do in the invoicing API.
 *
 * - admin: read, create and delete every invoice, read reports, revoke tokens, only while the
 *   request's risk is low (`env.risk`, when context risk is on);
 * - accountant: read and create invoices, update only her own draft invoices (some fields);
 * - customer: read only the invoices where he is the customer;
 * - billing-worker: record payments and change only the `status` of an invoice;
 * - reporting-service: read reports, only inside the reports window (`env.time`);
 * - metrics-scraper (Prometheus): read the metrics.
 */
export function demoAbilities(settings: DemoPolicySettings = {}): AbilityDefinitions {
  const reportsWindow = settings.reportsWindow ?? '00:00-00:00';
  return {
    user: (principal, env, { can }) => {
      if (principal.roles.includes('admin') && (env.risk ?? 0) <= ADMIN_MAX_RISK) {
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
    service: (principal, env, { can }) => {
      if (principal.roles.includes('billing')) {
        can('create', 'Payment');
        can('update', 'Invoice', ['status']);
      }
      if (principal.roles.includes('reporting') && inUtcWindow(env.time, reportsWindow)) {
        can('read', 'Report');
      }
      if (principal.roles.includes('metrics')) {
        can('read', 'Metrics');
      }
    },
  };
}

/** The demo policies with reports readable all day. */
export const DEMO_ABILITIES: AbilityDefinitions = demoAbilities();
