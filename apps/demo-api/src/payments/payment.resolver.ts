import { Injectable } from '@nestjs/common';
import type { ResolveContext, SubjectResolver } from 'nestjs-zero-trust';
import type { InvoiceStatus } from '../invoices/invoice.entity.js';
import { InvoiceRepository } from '../invoices/invoice.repository.js';

/** The payment a request asks to record, with the invoice it would pay. */
export interface RequestedPayment {
  invoiceId: unknown;
  amount: unknown;
  /** The invoice named by `invoiceId`; absent when there is none. */
  invoice?: { id: string; status: InvoiceStatus };
}

/**
 * Describes the requested payment (the body) joined with the invoice it pays, so a rule such as
 * `can('create', 'Payment', { 'invoice.status': 'issued' })` decides on the invoice's state.
 * It never refuses by itself: a payment naming no invoice has no `invoice`, which no rule
 * matches, so it is denied like one against a void invoice (and nobody learns which ids exist).
 */
@Injectable()
export class PaymentResolver implements SubjectResolver<RequestedPayment> {
  constructor(private readonly invoices: InvoiceRepository) {}

  resolve({ body }: ResolveContext): RequestedPayment {
    const { invoiceId, amount } = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    const invoice = typeof invoiceId === 'string' ? this.invoices.findById(invoiceId) : undefined;
    return {
      invoiceId,
      amount,
      ...(invoice === undefined ? {} : { invoice: { id: invoice.id, status: invoice.status } }),
    };
  }
}
