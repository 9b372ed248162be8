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
