/** The states an invoice goes through. */
export const INVOICE_STATUSES = ['draft', 'issued', 'paid', 'void'] as const;

/** An invoice status. */
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** An invoice of the demo. */
export interface Invoice {
  id: string;
  /** The accountant who owns (wrote) the invoice. */
  ownerId: string;
  /** The customer billed. */
  customerId: string;
  status: InvoiceStatus;
  /** Amount in cents. */
  amount: number;
  description: string;
  dueDate: string;
}

/**
 * A requested change of an invoice's status: the subject the transition rules are checked
 * against (`can('update', 'InvoiceTransition', { from: 'issued', to: 'paid' })`). It exists only
 * for the check: the stored invoice says `from`, the request body says `to`.
 */
export interface InvoiceTransition {
  /** The invoice's id, for the audit trail. */
  id: string;
  /** The invoice's status now. */
  from: InvoiceStatus;
  /** The status the request asks for; `from` when the body does not change it. */
  to: InvoiceStatus;
}
