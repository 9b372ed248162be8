import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { ServiceTokenClient } from 'nestjs-zero-trust/client';
import type { PaymentEventsPublisher } from './payment-events.js';

/** Settings of the billing worker. */
export interface BillingWorkerConfig {
  /** Base URL of the demo API's mutual-TLS listener, e.g. `https://127.0.0.1:3443`. */
  apiUrl: string;
  /** The demo API's audience (resource indicator). */
  audience: string;
  /** Milliseconds between two billing rounds. */
  intervalMs: number;
}

/** Injection token of {@link BillingWorkerConfig}. */
export const BILLING_WORKER_CONFIG = Symbol('BILLING_WORKER_CONFIG');

/** Injection token of the `payment.recorded` publisher (undefined: no NATS). */
export const PAYMENT_EVENTS = Symbol('PAYMENT_EVENTS');

/** One API call of a round, as logged. */
export interface BillingCall {
  method: string;
  path: string;
  status: number;
}

/**
 * Does what the demo's policy lets billing-worker do, and nothing else: list the issued
 * invoices (the only ones it may read), record a payment of each one's amount, then move that
 * invoice from `issued` to `paid` (the only status change it may make), announcing the payment
 * over NATS (`payment.recorded`) when events are configured. A round with nothing
 * issued makes only the list call. Every call goes over mutual TLS with the worker's own
 * certificate and a certificate-bound token from the {@link ServiceTokenClient}; each is
 * logged with its method, path and status.
 */
@Injectable()
export class BillingWorker {
  private readonly logger = new Logger(BillingWorker.name);
  private timer: NodeJS.Timeout | undefined;
  private round = 0;

  constructor(
    private readonly tokens: ServiceTokenClient,
    @Inject(BILLING_WORKER_CONFIG) private readonly config: BillingWorkerConfig,
    @Optional() @Inject(PAYMENT_EVENTS) private readonly events?: PaymentEventsPublisher,
  ) {}

  /** Runs a round now, then every `intervalMs`. */
  start(): void {
    const tick = (): void => {
      this.runOnce().catch((error: unknown) => {
        this.logger.error(error instanceof Error ? error.message : String(error));
      });
    };
    tick();
    this.timer = setInterval(tick, this.config.intervalMs);
  }

  /** Stops the interval. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One billing round: each issued invoice gets a payment, then its status. */
  async runOnce(): Promise<BillingCall[]> {
    this.round += 1;
    const requestId = `billing-${process.pid}-${this.round}`;
    const calls: BillingCall[] = [];
    const list = await this.call('GET', '/invoices', undefined, requestId);
    calls.push(list.call);
    const issued = Array.isArray(list.body) ? (list.body as unknown[]) : [];
    for (const invoice of issued) {
      const { id, amount } = invoice as { id?: unknown; amount?: unknown };
      if (typeof id !== 'string' || typeof amount !== 'number') continue;
      const path = `/invoices/${encodeURIComponent(id)}`;
      const payment = await this.call('POST', '/payments', { invoiceId: id, amount }, requestId);
      calls.push(payment.call);
      // Paid only once the payment is recorded.
      if (payment.call.status !== 201) continue;
      const paymentId = (payment.body as { id?: unknown } | undefined)?.id;
      await this.events?.publish({ invoiceId: id, paymentId: String(paymentId), amount });
      calls.push((await this.call('PATCH', path, { status: 'paid' }, requestId)).call);
    }
    return calls;
  }

  private async call(
    method: string,
    path: string,
    body: unknown,
    requestId: string,
  ): Promise<{ call: BillingCall; body: unknown }> {
    const response = await this.tokens.fetch(this.config.audience, `${this.config.apiUrl}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      requestId,
    });
    let answer: unknown;
    if (response.ok) answer = await response.json().catch(() => undefined);
    else await response.body?.cancel().catch(() => undefined);
    const call = { method, path, status: response.status };
    const line = `${method} ${path} -> ${response.status}`;
    if (response.ok) this.logger.log(line);
    else this.logger.warn(line);
    return { call, body: answer };
  }
}
