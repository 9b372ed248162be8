import { BadRequestException, Injectable } from '@nestjs/common';
import type { ResolveContext, SubjectResolver } from 'nestjs-zero-trust';
import { INVOICE_STATUSES, type InvoiceStatus, type InvoiceTransition } from './invoice.entity.js';
import { InvoiceRepository } from './invoice.repository.js';

/**
 * Builds the status change a request asks for, `{ id, from, to }`, from the stored invoice and
 * the body's `status`. CASL conditions on `Invoice` only see the record as it is; rules on this
 * subject see where it would go, so a policy can allow `issued` -> `paid` and nothing else.
 */
@Injectable()
export class InvoiceTransitionResolver implements SubjectResolver<InvoiceTransition> {
  constructor(private readonly invoices: InvoiceRepository) {}

  resolve({ params, body }: ResolveContext): InvoiceTransition | undefined {
    const invoice = this.invoices.findById(params.id ?? '');
    if (invoice === undefined) return undefined;
    const requested =
      typeof body === 'object' && body !== null && Object.hasOwn(body, 'status')
        ? (body as { status: unknown }).status
        : invoice.status;
    // An unknown status is no transition at all: refuse it here rather than let a value that
    // no rule names (an object, an operator) reach the conditions.
    if (!INVOICE_STATUSES.includes(requested as InvoiceStatus))
      throw new BadRequestException('Invalid value for "status"');
    return { id: invoice.id, from: invoice.status, to: requested as InvoiceStatus };
  }
}
