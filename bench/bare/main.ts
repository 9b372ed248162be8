// (a) The bare route: the same GET /invoices/:id, no authentication, no authorization.
import { Controller, Get, Module, NotFoundException, Param } from '@nestjs/common';
import { INVOICE, listen } from '../server.js';

const invoices = new Map([[INVOICE.id, INVOICE]]);

@Controller('invoices')
class InvoicesController {
  @Get(':id')
  findOne(@Param('id') id: string): typeof INVOICE {
    const invoice = invoices.get(id);
    if (invoice === undefined) throw new NotFoundException();
    return invoice;
  }
}

@Module({ controllers: [InvoicesController] })
class BareModule {}

await listen(BareModule);
