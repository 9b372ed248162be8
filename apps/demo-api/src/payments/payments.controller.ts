import { BadRequestException, Body, Controller, Post } from '@nestjs/common';
import { Can, CurrentPrincipal, Scopes, type Principal } from 'nestjs-zero-trust';
import { InvoiceRepository } from '../invoices/invoice.repository.js';
import { PaymentResolver } from './payment.resolver.js';

/** A payment recorded against an invoice. */
export interface Payment {
  id: string;
  invoiceId: string;
  amount: number;
  recordedBy: string;
}

/**
 * Payments: only the billing-worker service records them, and only against an issued invoice
 * (the rule's condition reads the invoice through {@link PaymentResolver}), with a token granted
 * `payments:write`.
 */
@Controller('payments')
export class PaymentsController {
  private readonly payments: Payment[] = [];

  constructor(private readonly invoices: InvoiceRepository) {}

  @Post()
  @Scopes('payments:write')
  @Can('create', 'Payment', { resolve: PaymentResolver })
  record(@Body() body: unknown, @CurrentPrincipal() principal: Principal): Payment {
    const { invoiceId, amount } = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    if (typeof invoiceId !== 'string' || this.invoices.findById(invoiceId) === undefined) {
      throw new BadRequestException('"invoiceId" must name an existing invoice');
    }
    if (!Number.isInteger(amount) || (amount as number) <= 0)
      throw new BadRequestException('"amount" must be a positive integer (cents)');
    const payment: Payment = {
      id: `pay-${this.payments.length + 1}`,
      invoiceId,
      amount: amount as number,
      recordedBy: principal.id,
    };
    this.payments.push(payment);
    return payment;
  }
}
