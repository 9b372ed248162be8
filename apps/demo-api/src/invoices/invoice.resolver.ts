import { Injectable } from '@nestjs/common';
import type { ResolveContext, SubjectResolver } from 'nestjs-zero-trust';
import type { Invoice } from './invoice.entity.js';
import { InvoiceRepository } from './invoice.repository.js';

/** Loads the invoice named by the `:id` route parameter, so rules see the real record. */
@Injectable()
export class InvoiceResolver implements SubjectResolver<Invoice> {
  constructor(private readonly invoices: InvoiceRepository) {}

  resolve({ params }: ResolveContext): Invoice | undefined {
    return this.invoices.findById(params.id ?? '');
  }
}
