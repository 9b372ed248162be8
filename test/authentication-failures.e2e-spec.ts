import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuditService, AuditSink } from 'nestjs-zero-trust/audit';
import { Authenticated, ZeroTrustModule } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, RecordingSink } from './support/demo-api.js';
import { getFrom } from './support/http-from.js';

@Controller()
class PingController {
  @Get('ping')
  @Authenticated()
  ping(): { ok: true } {
    return { ok: true };
  }
}

describe.each(ADAPTERS)('failed-authentication limit per address (%s)', (adapter) => {
  let issuer: TestIssuer;
  let app: INestApplication;
  let url: string;
  const sink = new RecordingSink();

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    @Module({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: issuer.url,
          audience: issuer.audience,
          authenticationFailures: { max: 3, window: 60 },
        }),
      ],
      controllers: [PingController],
    })
    class LimitedApi {}
    const moduleRef = await Test.createTestingModule({ imports: [LimitedApi] })
      .overrideProvider(AuditSink)
      .useValue(sink)
      .compile();
    app =
      adapter === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
        : moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/ping`;
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  it('answers 429 to unauthenticated attempts once an address used up its failures', async () => {
    const forged = `${issuer.sign({ sub: 'mallory' }).slice(0, -4)}AAAA`;
    const attacker = '127.0.0.2';
    for (let i = 0; i < 3; i++) expect((await getFrom(url, attacker, forged)).status).toBe(401);
    const limited = await getFrom(url, attacker, forged);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('60');
    // No token at all is throttled too.
    expect((await getFrom(url, attacker)).status).toBe(429);
    // A valid token from that address is served: others' failures never refuse a principal.
    expect((await getFrom(url, attacker, issuer.sign({ sub: 'alice' }))).status).toBe(200);
    await app.get(AuditService).flush();
    expect(sink.events.some((e) => e.action === 'excess_rate_limit_exceeded')).toBe(true);
  });

  it('counts per address, and not requests that carry no token', async () => {
    const other = '127.0.0.3';
    expect((await getFrom(url, other, issuer.sign({ sub: 'alice' }))).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await getFrom(url, other)).status).toBe(401);
    expect((await getFrom(url, other, issuer.sign({ sub: 'alice' }))).status).toBe(200);
  });
});
