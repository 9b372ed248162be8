import { Controller, Get, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { Action } from '../casl/action.enum.js';
import type { AppAbility } from '../casl/casl-ability.factory.js';
import { CheckPolicies } from '../casl/policies.js';
import { PoliciesGuard } from '../casl/policies.guard.js';
import { INVOICE } from '../../server.js';
import { Invoice } from './invoice.entity.js';

const invoices = new Map<string, Invoice>([[INVOICE.id, Object.assign(new Invoice(), INVOICE)]]);

@Controller('invoices')
export class InvoicesController {
  @Get(':id')
  @UseGuards(JwtAuthGuard, PoliciesGuard)
  @CheckPolicies((ability: AppAbility) => ability.can(Action.Read, Invoice))
  findOne(@Param('id') id: string): Invoice {
    const invoice = invoices.get(id);
    if (invoice === undefined) throw new NotFoundException();
    return invoice;
  }
}
