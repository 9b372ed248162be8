import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { SkipThrottle, Throttle, ThrottlerModule } from '@nestjs/throttler';
import { Authenticated, ZeroTrustModule } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { ZeroTrustThrottlerModule } from 'nestjs-zero-trust/throttler';
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

  // A limit computed per request: the guard cannot remember it per route.
  @Get('dynamic')
  @Throttle({ default: { limit: () => 1, ttl: 60_000 } })
  dynamic(): string {
    return 'ok';
  }
}

// The guard reads each route's @Throttle / @SkipThrottle once and remembers it: the
// decorators must still mean what @nestjs/throttler says, request after request.
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
