import { Inject, Injectable, Logger } from '@nestjs/common';
import { ServiceTokenClient } from 'nestjs-zero-trust';

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

/** One API call of a round, as logged. */
export interface BillingCall {
  method: string;
  path: string;
  status: number;
}

/**
 * Does what the demo's policy lets billing-worker do, and nothing else: record a payment
 * against an issued invoice, then set that invoice's `status` to `paid`. Every call goes over
 * mutual TLS with the worker's own certificate and a certificate-bound token from the
 * {@link ServiceTokenClient}; each is logged with its method, path and status.
 */
@Injectable()
export class BillingWorker {
  private readonly logger = new Logger('billing-worker');
  private timer: NodeJS.Timeout | undefined;
  private round = 0;

  constructor(
    private readonly tokens: ServiceTokenClient,
    @Inject(BILLING_WORKER_CONFIG) private readonly config: BillingWorkerConfig,
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

  /** One billing round: a payment for `inv-2`, then its status. */
  async runOnce(): Promise<BillingCall[]> {
    this.round += 1;
    const requestId = `billing-${process.pid}-${this.round}`;
    const calls = [
      await this.call('POST', '/payments', { invoiceId: 'inv-2', amount: 1000 }, requestId),
      await this.call('PATCH', '/invoices/inv-2', { status: 'paid' }, requestId),
    ];
    return calls;
  }

  private async call(
    method: string,
    path: string,
    body: unknown,
    requestId: string,
  ): Promise<BillingCall> {
    const response = await this.tokens.fetch(this.config.audience, `${this.config.apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      requestId,
    });
    await response.body?.cancel().catch(() => undefined);
    const call = { method, path, status: response.status };
    const line = `${method} ${path} -> ${response.status}`;
    if (response.ok) this.logger.log(line);
    else this.logger.warn(line);
    return call;
  }
}
