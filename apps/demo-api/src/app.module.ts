import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ZeroTrustModule } from 'nestjs-zero-trust';
import { RevocationsController } from './admin/revocations.controller.js';
import type { DemoConfig } from './config.js';
import { HealthController } from './health/health.controller.js';
import { InvoiceRepository } from './invoices/invoice.repository.js';
import { InvoiceResolver } from './invoices/invoice.resolver.js';
import { InvoicesController } from './invoices/invoices.controller.js';
import { MeController } from './me/me.controller.js';
import { PaymentsController } from './payments/payments.controller.js';
import { DEMO_ABILITIES, DEMO_SERVICES } from './policies.js';
import { ReportsController } from './reports/reports.controller.js';

/** The demo invoicing API, wired to the zero-trust module. */
@Module({})
export class AppModule {
  static register(config: DemoConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TerminusModule,
        ZeroTrustModule.forRoot({
          issuer: config.issuer,
          audience: config.audience,
          mode: config.mode,
          principals: { services: DEMO_SERVICES },
          abilities: DEMO_ABILITIES,
        }),
      ],
      controllers: [
        HealthController,
        MeController,
        InvoicesController,
        PaymentsController,
        ReportsController,
        RevocationsController,
      ],
      providers: [InvoiceRepository, InvoiceResolver],
    };
  }
}
