import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Req,
} from '@nestjs/common';
import {
  AuthorizedResource,
  Can,
  CurrentPrincipal,
  PolicyService,
  RiskPolicy,
  Scopes,
  type Principal,
} from 'nestjs-zero-trust';
import { INVOICE_STATUSES, type Invoice, type InvoiceStatus } from './invoice.entity.js';
import { InvoiceRepository } from './invoice.repository.js';
import { InvoiceResolver } from './invoice.resolver.js';
import { InvoiceTransitionResolver } from './invoice-transition.resolver.js';
import { DEMO_MFA_ACR } from '../policies.js';

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequestException('A JSON object body is required');
  return body as Record<string, unknown>;
}

/** The changes a body asks for, each validated (400 otherwise); REST and GraphQL share it. */
export function validPatch(body: Record<string, unknown>): Partial<Invoice> {
  const patch: Partial<Invoice> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'amount' && Number.isInteger(value) && (value as number) >= 0)
      patch.amount = value as number;
    else if (key === 'description' && typeof value === 'string' && value.length <= 500)
      patch.description = value;
    else if (key === 'dueDate' && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value))
      patch.dueDate = value;
    else if (key === 'status' && INVOICE_STATUSES.includes(value as InvoiceStatus))
      patch.status = value as InvoiceStatus;
    else throw new BadRequestException(`Invalid value for "${key}"`);
  }
  return patch;
}

/**
 * Invoices: reads scoped to what the caller may see, changes checked against the record. A read
 * needs the token's `invoices:read` scope, a change `invoices:write` (what the client was
 * granted), and then the caller's ability (what the user or service may do).
 */
@Controller('invoices')
export class InvoicesController {
  constructor(
    private readonly invoices: InvoiceRepository,
    private readonly policies: PolicyService,
  ) {}

  /**
   * Lists only the invoices the caller may read (bob sees his own): the same query condition
   * whichever engine decides (CASL's rules, or the Cerbos plan the `@Can` check already made).
   */
  @Get()
  @Scopes('invoices:read')
  @Can('read', 'Invoice')
  async list(@Req() request: object): Promise<Invoice[]> {
    const condition = await this.policies.conditionFor(request, 'read', 'Invoice');
    return condition === null ? [] : this.invoices.findWhere(condition);
  }

  @Get(':id')
  @Scopes('invoices:read')
  @Can('read', 'Invoice', { resolve: InvoiceResolver })
  get(@AuthorizedResource() invoice: Invoice): Invoice {
    return invoice;
  }

  @Post()
  @Scopes('invoices:write')
  @Can('create', 'Invoice')
  create(@Body() body: unknown, @CurrentPrincipal() principal: Principal): Invoice {
    const data = asObject(body);
    const { customerId, amount, description = '', dueDate = '2027-01-31' } = data;
    if (typeof customerId !== 'string' || customerId.length === 0)
      throw new BadRequestException('"customerId" is required');
    if (!Number.isInteger(amount) || (amount as number) < 0)
      throw new BadRequestException('"amount" must be a non-negative integer (cents)');
    const rest = validPatch({ description, dueDate });
    return this.invoices.create({
      ownerId: principal.id,
      customerId,
      amount: amount as number,
      description: rest.description ?? '',
      dueDate: rest.dueDate ?? '2027-01-31',
    });
  }

  /**
   * alice may change her own drafts; billing-worker may change only `status`. Both checks must
   * pass: the first on the invoice as stored (who may touch it, which fields), the second on
   * the status change the body asks for (`from` -> `to`, see `INVOICE_TRANSITIONS`). Its fields
   * were checked by the first.
   */
  @Patch(':id')
  @Scopes('invoices:write')
  @Can('update', 'Invoice', { resolve: InvoiceResolver })
  @Can('update', 'InvoiceTransition', { resolve: InvoiceTransitionResolver, fields: false })
  update(@Param('id') id: string, @Body() body: unknown): Invoice | undefined {
    return this.invoices.update(id, validPatch(asObject(body)));
  }

  /** Admins only, at low risk, after a strong authentication in the last 5 minutes. */
  @Delete(':id')
  @HttpCode(204)
  @Scopes('invoices:write')
  @Can('delete', 'Invoice', { resolve: InvoiceResolver })
  @RiskPolicy({ maxScore: 30, acr: DEMO_MFA_ACR, maxAuthAge: 300 })
  remove(@Param('id') id: string): void {
    this.invoices.delete(id);
  }
}
