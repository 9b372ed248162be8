import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { natsRecord } from 'nestjs-zero-trust/messages';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BillingWorker } from '../apps/billing-worker/src/billing-worker.js';
import { WorkerModule } from '../apps/billing-worker/src/worker.module.js';
import { readMutualTlsSettings } from '../apps/demo-api/src/mtls.js';
import { PAYMENT_RECORDED, PaymentNotices } from '../apps/demo-api/src/payments/payment-events.js';
import { DEMO_AUDIENCE, DEMO_SERVICE_CLIENTS } from '../apps/identity/src/constants.js';
import { NATS_URL, natsReady } from './support/brokers.js';
import { startDemoApi, type RunningApi } from './support/demo-api.js';
import { startTestIdentityProvider, type TestIdentityProvider } from './support/identity.js';

/*
 * The demo's messages over real NATS: billing-worker announces each payment it records
 * (`payment.recorded`) with the token of its events client; the API takes it under a policy.
 * Messages with no token, with reporting-service's token, with billing-worker's
 * certificate-bound token, or replayed, are not handled and are audited.
 */
describe.runIf(natsReady)('demo: payment.recorded from billing-worker over NATS', () => {
  let idp: TestIdentityProvider;
  let api: RunningApi;
  let nats: ClientProxy;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    api = await startDemoApi(
      { issuer: idp.issuer, natsUrl: NATS_URL },
      { mtls: await readMutualTlsSettings(idp.dataDir) },
    );
    nats = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: { servers: [NATS_URL] },
    });
    await nats.connect();
  }, 30_000);
  afterAll(async () => {
    await nats?.close();
    await api?.close();
    await idp?.stop();
  });

  const notices = () => api.app.get(PaymentNotices).received;
  const messageRecords = () =>
    api.sink.events.filter((event) => event.request.route === `nats:${PAYMENT_RECORDED}`);
  /** Publishes `data` as a third party would, with `token` in the headers (or none). */
  async function publish(data: object, token?: string): Promise<void> {
    const record =
      token === undefined
        ? data
        : await natsRecord(
            { getToken: async () => ({ accessToken: token, tokenType: 'Bearer' }) },
            DEMO_AUDIENCE,
            data,
          );
    await lastValueFrom(nats.emit(PAYMENT_RECORDED, record), { defaultValue: undefined });
  }

  it("takes the worker's announcement of each payment it records, under its events client's policy", async () => {
    const own = idp.pki.workloads['billing-worker'];
    const moduleRef = await Test.createTestingModule({
      imports: [
        WorkerModule.register({
          issuer: idp.issuer,
          apiUrl: api.mtlsUrl ?? '',
          audience: DEMO_AUDIENCE,
          intervalMs: 60_000,
          tls: { key: own.key, cert: own.cert, ca: idp.pki.caCert },
          events: {
            natsUrl: NATS_URL,
            clientSecret: DEMO_SERVICE_CLIENTS['billing-worker-events'] ?? '',
          },
        }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    try {
      expect(await moduleRef.get(BillingWorker).runOnce()).toEqual([
        { method: 'GET', path: '/invoices', status: 200 },
        { method: 'POST', path: '/payments', status: 201 },
        { method: 'PATCH', path: '/invoices/inv-2', status: 200 },
      ]);
      await vi.waitFor(() => expect(notices()).toHaveLength(1), { timeout: 5000 });
      expect(notices()).toEqual([
        {
          invoiceId: 'inv-2',
          paymentId: 'pay-1',
          amount: 80_000,
          announcedBy: 'billing-worker-events',
        },
      ]);
      expect(messageRecords()).toEqual([
        expect.objectContaining({
          decision: 'allow',
          principal: expect.objectContaining({ kind: 'service', id: 'billing-worker-events' }),
          authorization: { action: 'create', subject: 'PaymentEvent' },
        }),
      ]);
    } finally {
      await moduleRef.close();
    }
  });

  it("refuses and audits a message with no token, reporting-service's, or billing-worker's bound token", async () => {
    const before = notices().length;
    const seen = messageRecords().length;
    const reporting = await idp.serviceToken('reporting-service');
    const bound = await idp.serviceToken('billing-worker');
    await publish({ invoiceId: 'inv-2', paymentId: 'forged-1', amount: 1 });
    await publish({ invoiceId: 'inv-2', paymentId: 'forged-2', amount: 1 }, reporting);
    await publish({ invoiceId: 'inv-2', paymentId: 'forged-3', amount: 1 }, bound);
    await vi.waitFor(() => expect(messageRecords().length).toBe(seen + 3), { timeout: 5000 });
    const refused = messageRecords().slice(seen);
    expect(refused.every((event) => event.decision === 'deny')).toBe(true);
    const codes = refused.map((event) => event.code ?? '');
    expect(codes.sort((a, b) => a.localeCompare(b))).toEqual([
      expect.stringMatching(/^ZT_CERTIFICATE_/),
      'ZT_INSUFFICIENT_SCOPE',
      'ZT_TOKEN_MISSING',
    ]);
    expect(refused.find((e) => e.code === 'ZT_INSUFFICIENT_SCOPE')?.principal?.id).toBe(
      'reporting-service',
    );
    expect(notices()).toHaveLength(before);
  });

  it('takes a captured announcement once: its replay is refused and audited', async () => {
    const client = DEMO_SERVICE_CLIENTS['billing-worker-events'] ?? '';
    const { clientCredentials } = await import('../apps/identity/src/client.js');
    const { access_token: token } = await clientCredentials({
      issuer: idp.issuer,
      clientId: 'billing-worker-events',
      clientSecret: client,
    });
    const record = await natsRecord(
      { getToken: async () => ({ accessToken: token, tokenType: 'Bearer' }) },
      DEMO_AUDIENCE,
      { invoiceId: 'inv-2', paymentId: 'pay-replayed', amount: 5 },
    );
    const before = notices().length;
    const seen = messageRecords().length;
    await lastValueFrom(nats.emit(PAYMENT_RECORDED, record), { defaultValue: undefined });
    await lastValueFrom(nats.emit(PAYMENT_RECORDED, record), { defaultValue: undefined });
    await vi.waitFor(() => expect(messageRecords().length).toBe(seen + 2), { timeout: 5000 });
    expect(
      messageRecords()
        .slice(seen)
        .map((event) => event.code ?? event.decision),
    ).toEqual(expect.arrayContaining(['allow', 'ZT_MESSAGE_REPLAY']));
    expect(
      notices()
        .slice(before)
        .map((notice) => notice.paymentId),
    ).toEqual(['pay-replayed']);
  });
});
