import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import passport from 'passport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticated } from '../routes/decorators.js';
import { TestIssuer } from '../testing/test-issuer.js';
import { ZeroTrustModule } from '../zero-trust.module.js';
import { JWT_STRATEGY } from './jwt.strategy.js';
import { RevocationService } from './revocation.service.js';
import { VerifiedTokenCache } from './verified-token.cache.js';

@Controller()
class MeController {
  @Get('me')
  @Authenticated()
  me(): string {
    return 'ok';
  }
}

/** The verified-token cache must never make a token valid for longer than it is. */
describe('authentication warm path', () => {
  let issuer: TestIssuer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: issuer.url,
          audience: issuer.audience,
          clockTolerance: 0,
          jwks: { cooldown: 0 },
          tokenCache: { max: 3 },
        }),
      ],
      controllers: [MeController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  async function me(token: string): Promise<{ status: number; code?: string }> {
    const response = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json().catch(() => ({}))) as { code?: string };
    return { status: response.status, code: body.code };
  }

  it('refuses a cached token once it expires', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = issuer.sign({ iat: now, exp: now + 2 });
    expect(await me(token)).toEqual({ status: 200, code: undefined });
    expect(await me(token)).toEqual({ status: 200, code: undefined });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await me(token)).toEqual({ status: 401, code: 'ZT_TOKEN_EXPIRED' });
  });

  it('refuses a cached token once it is revoked', async () => {
    const token = issuer.sign({ sub: 'zoe', jti: 'jti-zoe-1' });
    expect((await me(token)).status).toBe(200);
    await app.get(RevocationService).revokeToken('jti-zoe-1');
    expect(await me(token)).toEqual({ status: 401, code: 'ZT_TOKEN_REVOKED' });
  });

  it('refuses a cached token once its key is removed from the JWKS', async () => {
    const old = issuer.sign({ sub: 'yan' });
    expect((await me(old)).status).toBe(200);
    issuer.rotate({ dropOld: true });
    // A token with the new kid makes the key source refetch the set, which drops the old key.
    expect((await me(issuer.sign({ sub: 'yan' }))).status).toBe(200);
    expect(await me(old)).toEqual({ status: 401, code: 'ZT_TOKEN_KEY_UNKNOWN' });
  });

  it('stays bounded', async () => {
    for (let i = 0; i < 10; i += 1)
      expect((await me(issuer.sign({ sub: `user-${i}` }))).status).toBe(200);
    expect(app.get(VerifiedTokenCache).size).toBeLessThanOrEqual(3);
  });
});

/** Each module instance registers its own passport strategy: apps in one process never share one. */
describe('two applications in one process', () => {
  const issuers: TestIssuer[] = [];
  const apps: INestApplication[] = [];

  async function boot(issuer: TestIssuer): Promise<string> {
    const moduleRef = await Test.createTestingModule({
      imports: [ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience })],
      controllers: [MeController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  }
  afterAll(async () => {
    for (const closable of [...apps, ...issuers]) await closable.close();
  });

  it('each verifies with its own issuer, and unregisters its strategy when closed', async () => {
    issuers.push(await TestIssuer.start(), await TestIssuer.start());
    const [a, b] = issuers as [TestIssuer, TestIssuer];
    const urlA = await boot(a);
    const urlB = await boot(b);
    const status = async (url: string, token: string): Promise<number> =>
      (await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await status(urlA, a.sign())).toBe(200);
    expect(await status(urlB, b.sign())).toBe(200);
    expect(await status(urlA, b.sign())).toBe(401);
    expect(await status(urlB, a.sign())).toBe(401);
    const closing = apps.pop() as INestApplication;
    const { name } = closing.get<{ name: string }>(JWT_STRATEGY);
    await closing.close();
    const unknown = await new Promise((resolve) => {
      passport.authenticate(name, { session: false }, resolve)({ headers: {} }, {}, resolve);
    });
    expect(String(unknown)).toMatch(/Unknown authentication strategy/);
  });
});
