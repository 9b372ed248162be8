import {
  Controller,
  Get,
  Module,
  Req,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { Authenticated, Public, ZeroTrustModule, type Principal } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from './support/demo-api.js';
import { listenApp } from './support/nest-app.js';

type WithUser = { user?: Partial<Principal> & { kind?: string } };

@Controller()
class UserController {
  @Get('me')
  @Authenticated()
  me(@Req() request: WithUser): { user: string | null } {
    return { user: request.user?.id ?? null };
  }

  @Get('replaced')
  @Authenticated()
  replaced(@Req() request: WithUser): { user: string | null } {
    // Code after the guards may still set its own user, as with passport.
    request.user = { id: 'set-by-handler' };
    return { user: request.user.id ?? null };
  }

  @Get('open')
  @Public()
  open(@Req() request: WithUser): { user: string | null } {
    return { user: request.user?.id ?? null };
  }
}

// req.user is the passport convention: after the authentication guard it is the verified
// principal, on both adapters, whatever a middleware put there before.
describe.each(ADAPTERS)('req.user (%s)', (adapter) => {
  let issuer: TestIssuer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    @Module({
      imports: [ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience })],
      controllers: [UserController],
    })
    class UserApp implements NestModule {
      configure(consumer: MiddlewareConsumer): void {
        // A middleware that claims a user from a header, before any guard runs.
        consumer
          .apply(
            (
              request: WithUser & { headers: Record<string, string> },
              _res: unknown,
              next: () => void,
            ) => {
              if (request.headers['x-claimed-user'] !== undefined)
                request.user = { id: request.headers['x-claimed-user'] };
              next();
            },
          )
          .forRoutes('*path');
      }
    }
    ({ app, url } = await listenApp(UserApp, adapter));
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  async function get(path: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${url}${path}`, { headers });
    return { status: response.status, body: (await response.json()) as { user: string | null } };
  }

  it('is the verified principal after authentication, request after request', async () => {
    const token = issuer.sign({ sub: 'alice' });
    for (let i = 0; i < 3; i++) {
      expect(await get('/me', { authorization: `Bearer ${token}` })).toEqual({
        status: 200,
        body: { user: 'alice' },
      });
    }
    expect(
      (await get('/me', { authorization: `Bearer ${issuer.sign({ sub: 'bob' })}` })).body,
    ).toEqual({ user: 'bob' });
  });

  it('replaces a user that a middleware set before the guards', async () => {
    const response = await get('/me', {
      authorization: `Bearer ${issuer.sign({ sub: 'alice' })}`,
      'x-claimed-user': 'mallory',
    });
    expect(response).toEqual({ status: 200, body: { user: 'alice' } });
  });

  it('can still be set by the handler, and is not set on a public route', async () => {
    const token = issuer.sign({ sub: 'alice' });
    expect((await get('/replaced', { authorization: `Bearer ${token}` })).body).toEqual({
      user: 'set-by-handler',
    });
    expect(await get('/open')).toEqual({ status: 200, body: { user: null } });
  });
});
