// Part of `npm run bench -- --micro`: what the risk assessment and the learning after it cost one
// warm request, in process (no HTTP, no guard, no audit event), with the demo's risk settings
// and the in-memory store, through the library's public API.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { fileURLToPath } from 'node:url';
import { RiskEngine } from 'nestjs-zero-trust/risk';
import { ZeroTrustModule, type Principal, type ZeroTrustRequestContext } from 'nestjs-zero-trust';

const GEO_DATABASE = fileURLToPath(
  new URL('../../apps/demo-api/data/GeoLite2-City-Test.mmdb', import.meta.url),
);

/** Microseconds per request: assessment then learning, best of `rounds` timed rounds. */
export async function microRisk(iterations = 50_000, rounds = 5): Promise<number> {
  @Module({
    imports: [
      ZeroTrustModule.forRoot({
        issuer: 'https://issuer.bench.local',
        audience: 'https://api.bench.local',
        abilities: { user: () => undefined },
        audit: { sink: { write: () => undefined } },
        risk: {
          mode: 'report-only',
          geolocation: { database: GEO_DATABASE },
          usage: { learningRequests: 20 },
          failures: { threshold: 20 },
        },
      }),
    ],
  })
  class RiskBenchModule {}
  const app = await NestFactory.createApplicationContext(RiskBenchModule, { logger: ['error'] });
  try {
    const engine = app.get(RiskEngine);
    const principal: Principal = Object.freeze({
      kind: 'user',
      id: 'alice',
      subject: 'alice',
      issuer: 'https://issuer.bench.local',
      roles: Object.freeze(['accountant']),
      scopes: Object.freeze([]),
      token: Object.freeze({ jti: 'bench', iat: 0, exp: 4_000_000_000 }),
      attributes: Object.freeze({}),
    });
    const headers = {
      host: '127.0.0.1',
      'user-agent': 'autocannon',
      'accept-language': 'en',
      authorization: 'Bearer not-read',
    };
    const one = async (): Promise<void> => {
      const request = { method: 'GET', url: '/invoices/inv-1', headers, query: {}, params: {} };
      const context: ZeroTrustRequestContext = {
        requestId: 'bench',
        time: new Date(),
        ip: '81.2.69.160',
        peer: '127.0.0.1',
        method: 'GET',
        route: '/invoices/:id',
        principal,
        resources: new Map(),
        resolved: new Map(),
      };
      await engine.assess(request, context);
      await engine.recordOutcome(context, { status: 200, success: true });
    };
    for (let i = 0; i < Math.min(iterations, 20_000); i += 1) await one();
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < rounds; round += 1) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < iterations; i += 1) await one();
      best = Math.min(best, Number(process.hrtime.bigint() - started) / iterations / 1000);
    }
    return best;
  } finally {
    await app.close();
  }
}
