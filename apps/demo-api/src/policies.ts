import { inUtcWindow } from 'nestjs-zero-trust/risk';
import { type AbilityDefinitions } from 'nestjs-zero-trust';
import { type ClientRegistration } from 'nestjs-zero-trust';

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
  // billing-worker on NATS (bearer tokens): may announce a payment and nothing else.
  'billing-worker-events': { roles: ['billing-events'] },
};

/** The `acr` of a password + one-time-code login at the demo IdP (step-up target). */
export const DEMO_MFA_ACR = 'urn:demo:acr:mfa';

/**
 * The status changes each role may request, `from` -> `to` (see {@link demoAbilities}). A change
 * that leaves the status as it is counts as `from` -> `from`.
 *
 * - an accountant edits her draft (`draft` -> `draft`), issues it or voids it;
 * - billing-worker only records what a payment does: `issued` -> `paid`. It can never reopen
 *   an invoice as a draft, void it, or mark a draft paid without it being issued.
 */
export const INVOICE_TRANSITIONS = {
  accountant: { from: 'draft', to: ['draft', 'issued', 'void'] },
  billing: { from: 'issued', to: ['paid'] },
} as const;

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
 * - accountant: read and create invoices, update only her own draft invoices (some fields),
 *   and move them only to `issued` or `void`;
 * - customer: read only the invoices where he is the customer;
 * - billing-worker: read the issued invoices, record a payment against an issued invoice, and
 *   change only the `status` of an issued invoice, only to `paid`;
 * - reporting-service: read reports, only inside the reports window (`env.time`);
 * - metrics-scraper (Prometheus): read the metrics;
 * - billing-worker-events (billing-worker on NATS): announce a recorded payment
 *   (`PaymentEvent`, the `payment.recorded` message).
 *
 * Rules on a change are conditions on the requested change, not only on the stored record.
 * A condition on `Invoice` sees the invoice as it is; the requested new status is in the body.
 * So `PATCH /invoices/:id` also checks an `InvoiceTransition` (`{ id, from, to }`, built by
 * `InvoiceTransitionResolver` from the stored status and the body's `status`) and `POST
 * /payments` checks the requested `Payment` joined with the invoice it pays
 * (`{ invoiceId, amount, invoice: { status } }`, from `PaymentResolver`). Plain CASL
 * conditions on those subjects (`{ from: 'issued', to: 'paid' }`, `{ 'invoice.status':
 * 'issued' }`) then say which changes are allowed, and the permission matrix lists them.
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
        const { from, to } = INVOICE_TRANSITIONS.accountant;
        can('update', 'InvoiceTransition', { from, to: { $in: [...to] } });
      }
      if (principal.roles.includes('customer')) {
        can('read', 'Invoice', { customerId: principal.id });
      }
    },
    service: (principal, env, { can }) => {
      if (principal.roles.includes('billing')) {
        const { from, to } = INVOICE_TRANSITIONS.billing;
        // What is left to collect: the worker finds the invoices to pay through the list.
        can('read', 'Invoice', { status: from });
        // A payment settles an issued invoice: never a draft, a void or an already paid one.
        can('create', 'Payment', { 'invoice.status': from });
        can('update', 'Invoice', ['status'], { status: from });
        can('update', 'InvoiceTransition', { from, to: { $in: [...to] } });
      }
      if (principal.roles.includes('reporting') && inUtcWindow(env.time, reportsWindow)) {
        can('read', 'Report');
      }
      if (principal.roles.includes('metrics')) {
        can('read', 'Metrics');
      }
      if (principal.roles.includes('billing-events')) {
        can('create', 'PaymentEvent');
      }
    },
  };
}

/** The demo policies with reports readable all day. */
export const DEMO_ABILITIES: AbilityDefinitions = demoAbilities();
