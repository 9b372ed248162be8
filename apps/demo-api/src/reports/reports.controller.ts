import { Controller, Get } from '@nestjs/common';
import { Can, Scopes } from 'nestjs-zero-trust';
import { InvoiceRepository } from '../invoices/invoice.repository.js';

/** Reports: for the reporting-service and admins, with a token granted `reports:read`. */
@Controller('reports')
export class ReportsController {
  constructor(private readonly invoices: InvoiceRepository) {}

  @Get('revenue')
  @Scopes('reports:read')
  @Can('read', 'Report')
  revenue(): { currency: string; invoiced: number; byStatus: Record<string, number> } {
    const byStatus: Record<string, number> = {};
    let invoiced = 0;
    for (const invoice of this.invoices.all()) {
      byStatus[invoice.status] = (byStatus[invoice.status] ?? 0) + invoice.amount;
      if (invoice.status !== 'void') invoiced += invoice.amount;
    }
    return { currency: 'EUR', invoiced, byStatus };
  }
}
