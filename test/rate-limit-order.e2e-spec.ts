import { Controller, Get, Module, Param, type INestApplication } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { Can, ZeroTrustModule } from 'nestjs-zero-trust';
import { type RiskSignal } from 'nestjs-zero-trust/risk';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { ZeroTrustThrottlerModule } from 'nestjs-zero-trust/throttler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from './support/demo-api.js';
import { listenApp } from './support/nest-app.js';

/**
 * Order of work per request: authenticate, rate-limit the principal, then type-level
 * authorization, risk and the resolver. An over-limit caller costs no risk assessment and no
 * resolver load, whichever order the application imports the modules in.
 */
const counts = { resolved: 0, assessed: 0 };

const counting: RiskSignal = {
  name: 'counting',
  evaluate: () => {
    counts.assessed++;
    return undefined;
  },
};

@Controller('documents')
class DocumentController {
  @Get(':id')
  @Can('read', 'Document', {
    resolve: ({ params }) => {
      counts.resolved++;
      return { id: params.id, ownerId: 'alice' };
    },
  })
  read(@Param('id') id: string): { id: string } {
    return { id };
  }
}

const ORDERS = [
  ['ZeroTrustModule first', 'zero-trust-first'],
  ['ZeroTrustThrottlerModule first', 'throttler-first'],
] as const;

describe.each(ADAPTERS)('rate limit before authorization, risk and resolvers (%s)', (adapter) => {
  let issuer: TestIssuer;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    issuer = await TestIssuer.start();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await issuer?.close();
  });

  it.each(ORDERS)('answers 429 right after authentication (%s)', async (_, order) => {
    const zeroTrust = ZeroTrustModule.forRoot({
      issuer: issuer.url,
      audience: issuer.audience,
      abilities: {
        user: (_principal, _env, { can }) => {
          can('read', 'Document');
        },
      },
      risk: { signals: [counting] },
    });
    const throttler = ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 2 }] });
    @Module({
      imports:
        order === 'zero-trust-first'
          ? [zeroTrust, throttler, ZeroTrustThrottlerModule]
          : [ZeroTrustThrottlerModule, throttler, zeroTrust],
      controllers: [DocumentController],
    })
    class App {}
    const { app, url } = await listenApp(App, adapter);
    apps.push(app);
    counts.resolved = 0;
    counts.assessed = 0;

    const statuses: number[] = [];
    const headers = { authorization: `Bearer ${issuer.sign({ sub: `alice-${order}` })}` };
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${url}/documents/d-${i}`, { headers });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    // Only the two requests within the limit were assessed and loaded their record.
    expect(counts).toEqual({ resolved: 2, assessed: 2 });
    // A request without a token is refused by authentication, before the limit counts it.
    const anonymous = await fetch(`${url}/documents/d-0`);
    expect(anonymous.status).toBe(401);
  });
});
