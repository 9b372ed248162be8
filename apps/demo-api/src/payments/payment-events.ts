import { Controller, Injectable, Logger, type INestApplication } from '@nestjs/common';
import { EventPattern, Payload, Transport } from '@nestjs/microservices';
import { Can, CurrentPrincipal, Scopes, type Principal } from 'nestjs-zero-trust';

/** The subject billing-worker announces each recorded payment on. */
export const PAYMENT_RECORDED = 'payment.recorded';

/** A `payment.recorded` event as the API took it, with who announced it. */
export interface PaymentNotice {
  invoiceId: unknown;
  paymentId: unknown;
  amount: unknown;
  announcedBy: string;
}

/** The payment events the API accepted (in memory, as the rest of the demo's data). */
@Injectable()
export class PaymentNotices {
  readonly received: PaymentNotice[] = [];
}

/**
 * `payment.recorded` over NATS: taken only from a service token granted `payments:events` whose
 * principal may create a `PaymentEvent` (billing-worker's events client). Anything else (no
 * token, reporting-service's token, a certificate-bound token) is not handled and is audited.
 */
@Controller()
export class PaymentEventsController {
  constructor(private readonly notices: PaymentNotices) {}

  @EventPattern(PAYMENT_RECORDED)
  @Scopes('payments:events')
  @Can('create', 'PaymentEvent')
  // The principal is typed `unknown`: @EventPattern types every parameter after the payload so.
  recorded(@Payload() data: unknown, @CurrentPrincipal() principal: unknown): void {
    const { invoiceId, paymentId, amount } = (
      typeof data === 'object' && data !== null ? data : {}
    ) as Record<string, unknown>;
    this.notices.received.push({
      invoiceId,
      paymentId,
      amount,
      announcedBy: (principal as Principal).id,
    });
  }
}

/**
 * Connects the app to NATS for `payment.recorded` when `natsUrl` is set (then call
 * `app.startAllMicroservices()` after `app.init()` or `listen`); without it the demo needs no
 * broker and says so once.
 */
export function connectPaymentEvents(app: INestApplication, natsUrl: string | undefined): void {
  if (natsUrl === undefined) {
    new Logger('PaymentEvents').log(
      `NATS_URL is not set: ${PAYMENT_RECORDED} events are not received (the demo needs no broker)`,
    );
    return;
  }
  app.connectMicroservice(
    { transport: Transport.NATS, options: { servers: [natsUrl], queue: 'demo-api' } },
    { inheritAppConfig: true },
  );
}
