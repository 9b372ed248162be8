import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { ServiceTokenClient } from 'nestjs-zero-trust/client';
import { natsRecord } from 'nestjs-zero-trust/messages';
import { lastValueFrom } from 'rxjs';

/** The subject a recorded payment is announced on (the demo API's `PAYMENT_RECORDED`). */
export const PAYMENT_RECORDED = 'payment.recorded';

/** Where and as whom the worker publishes its payment events. */
export interface PaymentEventsSettings {
  /** The NATS server, e.g. `nats://127.0.0.1:4222`. */
  natsUrl: string;
  /** The events client's secret at the IdP (`billing-worker-events`, bearer tokens). */
  clientSecret: string;
}

/** A recorded payment, as announced. */
export interface PaymentRecorded {
  invoiceId: string;
  paymentId: string;
  amount: number;
}

/**
 * Publishes `payment.recorded` over NATS with a token of the worker's events client
 * (`billing-worker-events`, granted `payments:events` only). Its HTTP calls keep their
 * certificate-bound tokens: a message cannot carry the TLS connection such a token is bound to,
 * so the events go under a separate, narrower identity with a bearer token.
 */
export class PaymentEventsPublisher implements OnApplicationShutdown {
  private readonly logger = new Logger('billing-worker');
  private readonly client: ClientProxy;
  private readonly tokens: ServiceTokenClient;

  constructor(
    issuer: string,
    private readonly audience: string,
    settings: PaymentEventsSettings,
  ) {
    this.client = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: { servers: [settings.natsUrl] },
    });
    this.tokens = new ServiceTokenClient({
      issuer,
      clientId: 'billing-worker-events',
      clientSecret: settings.clientSecret,
      scopes: { [audience]: 'payments:events' },
    });
  }

  /** Announces one payment (core NATS: nobody acknowledges it; a failure is logged). */
  async publish(payment: PaymentRecorded): Promise<boolean> {
    try {
      const record = await natsRecord(this.tokens, this.audience, payment);
      await lastValueFrom(this.client.emit(PAYMENT_RECORDED, record), { defaultValue: undefined });
      this.logger.log(`${PAYMENT_RECORDED} ${payment.paymentId} (${payment.invoiceId})`);
      return true;
    } catch (error) {
      this.logger.warn(`${PAYMENT_RECORDED} not published: ${(error as Error).message}`);
      return false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
