import { Module, type INestApplication } from '@nestjs/common';
import { ZeroTrustClientModule } from 'nestjs-zero-trust/client';
import { ZeroTrustModule } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenApp } from './support/nest-app.js';
import { RequestIdEchoController } from './support/request-id-echo.js';

// Its own file (its own module graph): no ServiceTokenClient exists in the process before the
// app starts, so only the app's own provider can turn 'auto' on.
describe('propagateRequestId "auto" with ZeroTrustClientModule', () => {
  let issuer: TestIssuer;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  it('makes the id current in an app that provides a ServiceTokenClient', async () => {
    @Module({
      imports: [
        ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience }),
        // Options from an asynchronous factory (as from a config service): the client may be
        // created after the module decides, so the decision must look at the app's providers.
        ZeroTrustClientModule.registerAsync({
          useFactory: async () => {
            await new Promise((resolve) => setTimeout(resolve, 20));
            return { issuer: issuer.url, clientId: 'svc', clientSecret: 'not-used-here' };
          },
        }),
      ],
      controllers: [RequestIdEchoController],
    })
    class EchoApp {}
    const started = await listenApp(EchoApp);
    app = started.app;
    const response = await fetch(`${started.url}/echo`, {
      headers: { authorization: `Bearer ${issuer.sign()}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { requestId: string | null };
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.requestId).toBe(response.headers.get('x-request-id'));
  });
});
