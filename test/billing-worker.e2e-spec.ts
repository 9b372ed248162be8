import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BillingWorker } from '../apps/billing-worker/src/billing-worker.js';
import { WorkerModule } from '../apps/billing-worker/src/worker.module.js';
import { readMutualTlsSettings } from '../apps/demo-api/src/mtls.js';
import { DEMO_AUDIENCE } from '../apps/identity/src/constants.js';
import { ADAPTERS, startDemoApi, type RunningApi } from './support/demo-api.js';
import { startTestIdentityProvider, type TestIdentityProvider } from './support/identity.js';

describe.each(ADAPTERS)('billing-worker app against demo-api over mTLS (%s)', (adapter) => {
  let idp: TestIdentityProvider;
  let api: RunningApi;
  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    api = await startDemoApi(
      { issuer: idp.issuer, adapter },
      { mtls: await readMutualTlsSettings(idp.dataDir) },
    );
  });
  afterAll(async () => {
    await api?.close();
    await idp?.stop();
  });

  it('pays each issued invoice and sets its status, each call allowed by the policy', async () => {
    const own = idp.pki.workloads['billing-worker'];
    const moduleRef = await Test.createTestingModule({
      imports: [
        WorkerModule.register({
          issuer: idp.issuer,
          apiUrl: api.mtlsUrl ?? '',
          audience: DEMO_AUDIENCE,
          intervalMs: 60_000,
          tls: { key: own.key, cert: own.cert, ca: idp.pki.caCert },
        }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    try {
      const worker = moduleRef.get(BillingWorker);
      expect(await worker.runOnce()).toEqual([
        { method: 'GET', path: '/invoices', status: 200 },
        { method: 'POST', path: '/payments', status: 201 },
        { method: 'PATCH', path: '/invoices/inv-2', status: 200 },
      ]);
      // inv-2 is paid now: the next round finds nothing issued and calls nothing else (on
      // main it paid inv-2 again and set its status again).
      expect(await worker.runOnce()).toEqual([{ method: 'GET', path: '/invoices', status: 200 }]);
      const allowed = api.sink.events.filter(
        (event) => event.principal?.id === 'billing-worker' && event.decision === 'allow',
      );
      expect(allowed.map((event) => event.request?.route)).toEqual(
        expect.arrayContaining(['/invoices', '/payments', '/invoices/:id']),
      );
    } finally {
      await moduleRef.close();
    }
  });
});
