/**
 * Runs the demo billing worker until SIGINT/SIGTERM.
 *
 * Environment: `IDP_URL` (default http://127.0.0.1:4000), `API_MTLS_URL` (default
 * https://127.0.0.1:3443), `API_AUDIENCE` (default https://invoices.demo.local),
 * `BILLING_INTERVAL_MS` (default 10000), `IDP_DATA_DIR` (where the IdP keeps the development
 * PKI; default apps/identity/.data), `NATS_URL` (publish `payment.recorded` there; none when
 * unset), `EVENTS_CLIENT_SECRET` (default: the demo's documented secret).
 *
 * @packageDocumentation
 */
import 'reflect-metadata';

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { NestFactory } from '@nestjs/core';

import { BillingWorker } from './billing-worker.js';
import { WorkerModule } from './worker.module.js';

const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../identity/.data', import.meta.url));

async function main(): Promise<void> {
  const intervalMs = Number(process.env.BILLING_INTERVAL_MS ?? 10_000);
  if (!Number.isInteger(intervalMs) || intervalMs < 100)
    throw new Error('BILLING_INTERVAL_MS must be an integer of at least 100');
  const pki = join(process.env.IDP_DATA_DIR?.trim() || DEFAULT_DATA_DIR, 'pki');
  const read = (name: string): Promise<string> =>
    readFile(join(pki, name), 'utf8').catch(() => {
      throw new Error(`cannot read ${join(pki, name)}: start the identity provider first`);
    });
  const [key, cert, ca] = await Promise.all(
    ['billing-worker.key', 'billing-worker.crt', 'ca.crt'].map(read),
  );

  const app = await NestFactory.createApplicationContext(
    WorkerModule.register({
      issuer: process.env.IDP_URL ?? 'http://127.0.0.1:4000',
      apiUrl: process.env.API_MTLS_URL ?? 'https://127.0.0.1:3443',
      audience: process.env.API_AUDIENCE ?? 'https://invoices.demo.local',
      intervalMs,
      tls: { key: key ?? '', cert: cert ?? '', ca: ca ?? '' },
      ...(process.env.NATS_URL
        ? {
            events: {
              natsUrl: process.env.NATS_URL,
              // The demo IdP's documented, demo-only secret of billing-worker-events.
              clientSecret: process.env.EVENTS_CLIENT_SECRET ?? 'billing-worker-events-secret',
            },
          }
        : {}),
    }),
    { logger: ['log', 'warn', 'error'] },
  );
  app.enableShutdownHooks();
  const worker = app.get(BillingWorker);
  console.log(
    `billing-worker calling ${process.env.API_MTLS_URL ?? 'https://127.0.0.1:3443'} every ${intervalMs} ms as spiffe://demo.local/billing-worker`,
  );
  if (!process.env.NATS_URL)
    console.log('NATS_URL is not set: payments are not announced over NATS (payment.recorded)');
  worker.start();
  const stop = (): void => {
    worker.stop();
    void app.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
