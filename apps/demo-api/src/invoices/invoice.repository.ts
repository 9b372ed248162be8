import { Injectable } from '@nestjs/common';
import { guard } from '@ucast/mongo2js';
import type { QueryCondition } from 'nestjs-zero-trust';
import type { Invoice } from './invoice.entity.js';

/** The seeded invoices: inv-1 and inv-3 billed to bob, inv-2 to another customer. */
function seed(): Invoice[] {
  return [
    {
      id: 'inv-1',
      ownerId: 'alice',
      customerId: 'bob',
      status: 'draft',
      amount: 120_000,
      description: 'Consulting, October',
      dueDate: '2026-12-31',
    },
    {
      id: 'inv-2',
      ownerId: 'alice',
      customerId: 'dave',
      status: 'issued',
      amount: 80_000,
      description: 'Licences 2026',
      dueDate: '2026-12-15',
    },
    {
      id: 'inv-3',
      ownerId: 'erin',
      customerId: 'bob',
      status: 'draft',
      amount: 30_000,
      description: 'Support, November',
      dueDate: '2027-01-15',
    },
  ];
}

/** In-memory invoice storage standing in for a database. */
@Injectable()
export class InvoiceRepository {
  private readonly invoices = new Map<string, Invoice>(seed().map((i) => [i.id, i]));
  private sequence = this.invoices.size;
  private readonly listeners = new Set<(invoice: Invoice) => void>();

  /** Calls `listener` with each invoice once changed (the pushes of the WebSocket gateway). */
  onChange(listener: (invoice: Invoice) => void): void {
    this.listeners.add(listener);
  }

  findById(id: string): Invoice | undefined {
    return this.invoices.get(id);
  }

  /** Invoices matching a query condition (as a database would apply a WHERE clause). */
  findWhere(condition: QueryCondition): Invoice[] {
    const matches = guard(condition);
    return [...this.invoices.values()].filter((invoice) =>
      matches(invoice as unknown as Record<string, unknown>),
    );
  }

  all(): Invoice[] {
    return [...this.invoices.values()];
  }

  create(data: Omit<Invoice, 'id' | 'status'>): Invoice {
    this.sequence += 1;
    const invoice: Invoice = { ...data, id: `inv-${this.sequence}`, status: 'draft' };
    this.invoices.set(invoice.id, invoice);
    return invoice;
  }

  update(id: string, patch: Partial<Invoice>): Invoice | undefined {
    const current = this.invoices.get(id);
    if (current === undefined) return undefined;
    const next = { ...current, ...patch, id };
    this.invoices.set(id, next);
    for (const listener of this.listeners) listener(next);
    return next;
  }

  delete(id: string): boolean {
    return this.invoices.delete(id);
  }
}
