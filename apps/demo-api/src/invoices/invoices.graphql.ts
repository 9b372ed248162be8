import { Args, Info, Mutation, Query, Resolver } from '@nestjs/graphql';
import {
  AuthorizedResource,
  Can,
  PolicyService,
  Scopes,
  type ResolveContext,
} from 'nestjs-zero-trust';
import type { Invoice } from './invoice.entity.js';
import { InvoiceRepository } from './invoice.repository.js';
import { InvoiceResolver } from './invoice.resolver.js';
import { InvoiceTransitionResolver } from './invoice-transition.resolver.js';
import { validPatch } from './invoices.controller.js';

/** The invoices at `/graphql`: the REST routes' policies, field for field. */
export const INVOICES_TYPE_DEFS = /* GraphQL */ `
  type Invoice {
    id: ID!
    ownerId: String!
    customerId: String!
    status: String!
    amount: Int!
    description: String!
    dueDate: String!
  }
  type Query {
    invoice(id: ID!): Invoice
    invoices: [Invoice!]!
  }
  type Mutation {
    updateInvoice(
      id: ID!
      amount: Int
      description: String
      dueDate: String
      status: String
    ): Invoice
  }
`;

/** The fields a change touches: its arguments but `id`, as REST checks the body's keys. */
const changedFields = ({ body }: ResolveContext): string[] =>
  Object.keys(body as object).filter((key) => key !== 'id');

/**
 * `GET /invoices`, `GET /invoices/:id` and `PATCH /invoices/:id` as GraphQL fields, under the
 * same scopes and `@Can` checks: the arguments are what the route's parameters and body were.
 */
@Resolver('Invoice')
export class InvoicesGraphql {
  constructor(
    private readonly invoices: InvoiceRepository,
    private readonly policies: PolicyService,
  ) {}

  /** Only the invoices the caller may read, as `GET /invoices` (the field's `info` for context). */
  @Query('invoices')
  @Scopes('invoices:read')
  @Can('read', 'Invoice')
  async list(@Info() info: object): Promise<Invoice[]> {
    const condition = await this.policies.conditionFor(info, 'read', 'Invoice');
    return condition === null ? [] : this.invoices.findWhere(condition);
  }

  @Query('invoice')
  @Scopes('invoices:read')
  @Can('read', 'Invoice', { resolve: InvoiceResolver })
  get(@AuthorizedResource() invoice: Invoice): Invoice {
    return invoice;
  }

  /** `PATCH /invoices/:id`: the stored invoice and its fields, then the status change. */
  @Mutation('updateInvoice')
  @Scopes('invoices:write')
  @Can('update', 'Invoice', { resolve: InvoiceResolver, fields: changedFields })
  @Can('update', 'InvoiceTransition', { resolve: InvoiceTransitionResolver, fields: false })
  update(@Args() args: Record<string, unknown>): Invoice | undefined {
    const { id, ...patch } = args;
    return this.invoices.update(String(id), validPatch(patch));
  }
}
