import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { SkipThrottle, Throttle, ThrottlerModule } from '@nestjs/throttler';
import { Authenticated, SharedStateStore, ZeroTrustModule } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { SharedStateThrottlerStorage, ZeroTrustThrottlerModule } from 'nestjs-zero-trust/throttler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from './support/demo-api.js';
import { listenApp } from './support/nest-app.js';

@Controller()
@Authenticated()
class LimitedController {
  @Get('plain')
  plain(): string {
    return 'ok';
  }

  @Get('generous')
  @Throttle({ default: { limit: 4, ttl: 60_000 } })
  generous(): string {
    return 'ok';
  }

  @Get('free')
  @SkipThrottle()
  free(): string {
    return 'ok';
  }

  // A limit computed per request.
  @Get('dynamic')
  @Throttle({ default: { limit: () => 1, ttl: 60_000 } })
  dynamic(): string {
    return 'ok';
  }
}

// @Throttle and @SkipThrottle mean what @nestjs/throttler says, request after request.
describe.each(ADAPTERS)(
  '@Throttle and @SkipThrottle with ZeroTrustThrottlerGuard (%s)',
  (adapter) => {
    let issuer: TestIssuer;
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      issuer = await TestIssuer.start();
      @Module({
        imports: [
          ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience }),
          ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 2 }] }),
          ZeroTrustThrottlerModule,
        ],
        controllers: [LimitedController],
      })
      class LimitedApp {}
      ({ app, url } = await listenApp(LimitedApp, adapter));
    });
    afterAll(async () => {
      await app?.close();
      await issuer?.close();
    });

    /** Statuses of `count` requests to `path` by a principal of its own. */
    async function statuses(path: string, sub: string, count: number): Promise<number[]> {
      const headers = { authorization: `Bearer ${issuer.sign({ sub })}` };
      const seen: number[] = [];
      for (let i = 0; i < count; i++) {
        const response = await fetch(`${url}${path}`, { headers });
        await response.arrayBuffer();
        seen.push(response.status);
      }
      return seen;
    }

    it('applies the module limit, a route override, a skip and a per-request limit', async () => {
      expect(await statuses('/plain', 'alice', 3)).toEqual([200, 200, 429]);
      expect(await statuses('/generous', 'bob', 5)).toEqual([200, 200, 200, 200, 429]);
      expect(await statuses('/free', 'carol', 5)).toEqual([200, 200, 200, 200, 200]);
      expect(await statuses('/dynamic', 'dave', 2)).toEqual([200, 429]);
    });
  },
);

// The options @nestjs/throttler documents keep their meaning with ZeroTrustThrottlerGuard:
// a tracker computed later, user agents that are never counted, a named throttler's headers,
// and the shared-state storage on the in-process store.
describe.each(ADAPTERS)('throttler options with ZeroTrustThrottlerGuard (%s)', (adapter) => {
  let issuer: TestIssuer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    @Module({
      imports: [
        ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience }),
        ThrottlerModule.forRootAsync({
          inject: [SharedStateStore],
          useFactory: (store: SharedStateStore) => ({
            throttlers: [{ name: 'burst', ttl: 60_000, limit: 2 }],
            storage: new SharedStateThrottlerStorage(store),
            ignoreUserAgents: [/^uptime-probe/],
            // One budget per tenant, found after a turn of the event loop.
            getTracker: async (request: Record<string, unknown>) => {
              await new Promise((resolve) => setImmediate(resolve));
              const headers = request.headers as Record<string, string | undefined>;
              return `tenant:${headers['x-tenant'] ?? 'none'}`;
            },
          }),
        }),
        ZeroTrustThrottlerModule,
      ],
      controllers: [LimitedController],
    })
    class TenantApp {}
    ({ app, url } = await listenApp(TenantApp, adapter));
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  async function get(sub: string, headers: Record<string, string>) {
    const response = await fetch(`${url}/plain`, {
      headers: { authorization: `Bearer ${issuer.sign({ sub })}`, ...headers },
    });
    await response.arrayBuffer();
    return response;
  }

  it('counts by the tracker the options give, names the headers after the throttler', async () => {
    const first = await get('alice', { 'x-tenant': 'acme' });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-burst')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-burst')).toBe('1');
    expect(Number(first.headers.get('x-ratelimit-reset-burst'))).toBeGreaterThan(0);
    // Another principal of the same tenant shares the budget; another tenant has its own.
    expect((await get('bob', { 'x-tenant': 'acme' })).status).toBe(200);
    const refused = await get('carol', { 'x-tenant': 'acme' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after-burst'))).toBeGreaterThan(0);
    expect((await get('carol', { 'x-tenant': 'globex' })).status).toBe(200);
  });

  it('never counts an ignored user agent', async () => {
    const probe = { 'x-tenant': 'initech', 'user-agent': 'uptime-probe/1.0' };
    for (let i = 0; i < 4; i++) {
      const response = await get('dave', probe);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit-burst')).toBeNull();
    }
    expect((await get('dave', { 'x-tenant': 'initech' })).status).toBe(200);
  });
});
