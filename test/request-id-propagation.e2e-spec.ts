import { Logger, Module, type INestApplication } from '@nestjs/common';
import { ServiceTokenClient } from 'nestjs-zero-trust/client';
import {
  ZeroTrustConfigurationError,
  ZeroTrustModule,
  type ZeroTrustModuleOptions,
} from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listenApp } from './support/nest-app.js';
import { RequestIdEchoController } from './support/request-id-echo.js';

// One file, one process: 'auto' also follows whether a ServiceTokenClient was created in it
// before an app started, so the steps run in order and the client is created halfway.
describe('propagateRequestId', () => {
  let issuer: TestIssuer;
  const apps: INestApplication[] = [];

  async function start(options: Partial<ZeroTrustModuleOptions>): Promise<string> {
    @Module({
      imports: [
        ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience, ...options }),
      ],
      controllers: [RequestIdEchoController],
    })
    class EchoApp {}
    const { app, url } = await listenApp(EchoApp);
    apps.push(app);
    return `${url}/echo`;
  }

  async function echo(url: string): Promise<{ header: string | null; seen: string | null }> {
    const response = await fetch(url, { headers: { authorization: `Bearer ${issuer.sign()}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { requestId: string | null };
    return { header: response.headers.get('x-request-id'), seen: body.requestId };
  }

  beforeAll(async () => {
    issuer = await TestIssuer.start();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await issuer?.close();
  });

  it('refuses anything but true, false or "auto" at boot', async () => {
    const error = await start({ propagateRequestId: 'yes' as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZeroTrustConfigurationError);
    expect((error as ZeroTrustConfigurationError).problems).toEqual([
      'propagateRequestId must be true, false or "auto"',
    ]);
  });

  it('"auto" follows a client created before the app started; false never propagates', async () => {
    const auto = await start({});
    const off = await start({ propagateRequestId: false });
    const on = await start({ propagateRequestId: true });

    // No client: the id is still echoed (and audited), but not current in the handler.
    const before = await echo(auto);
    expect(before.header).toMatch(/^[0-9a-f-]{36}$/);
    expect(before.seen).toBeNull();
    const explicit = await echo(on);
    expect(explicit.seen).toBe(explicit.header);

    // A client created now, outside Nest: an app that already started cannot follow it, and a
    // warning says so; an app started from now on propagates.
    const warnings: string[] = [];
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    let client: ServiceTokenClient;
    try {
      client = new ServiceTokenClient({
        issuer: issuer.url,
        clientId: 'svc',
        clientSecret: 'not-used-here',
      });
    } finally {
      warn.mockRestore();
    }
    expect(client.tokenRequestCount).toBe(0);
    expect(warnings).toEqual([expect.stringContaining("propagateRequestId: 'auto'")]);
    expect((await echo(auto)).seen).toBeNull();
    const later = await start({});
    const after = await echo(later);
    expect(after.seen).toBe(after.header);
    expect((await echo(off)).seen).toBeNull();
  });
});
