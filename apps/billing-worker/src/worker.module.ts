import { Module, type DynamicModule } from '@nestjs/common';
import { ZeroTrustClientModule, type ClientTlsOptions } from 'nestjs-zero-trust/client';

import {
  BILLING_WORKER_CONFIG,
  BillingWorker,
  PAYMENT_EVENTS,
  type BillingWorkerConfig,
} from './billing-worker.js';
import { PaymentEventsPublisher, type PaymentEventsSettings } from './payment-events.js';

/** Everything the worker needs: its identity (certificate) and where to call. */
export interface WorkerSettings extends BillingWorkerConfig {
  /** The identity provider's issuer (the mutual-TLS token endpoint is discovered). */
  issuer: string;
  /** The worker's certificate and key, and the development CA. */
  tls: ClientTlsOptions;
  /** Announce each payment over NATS (`payment.recorded`); none when absent. */
  events?: PaymentEventsSettings;
}

/** The billing worker: no HTTP API of its own, only outgoing calls. */
@Module({})
export class WorkerModule {
  static register(settings: WorkerSettings): DynamicModule {
    const { issuer, tls, events, ...config } = settings;
    return {
      module: WorkerModule,
      imports: [
        ZeroTrustClientModule.register({
          issuer,
          clientId: 'billing-worker',
          // tls_client_auth: the certificate is the credential; no secret exists.
          tls,
          scopes: { [config.audience]: 'invoices:read invoices:write payments:write' },
        }),
      ],
      providers: [
        { provide: BILLING_WORKER_CONFIG, useValue: config },
        {
          provide: PAYMENT_EVENTS,
          useValue:
            events === undefined
              ? undefined
              : new PaymentEventsPublisher(issuer, config.audience, events),
        },
        BillingWorker,
      ],
    };
  }
}
