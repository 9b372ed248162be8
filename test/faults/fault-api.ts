import { Module, type DynamicModule } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { ZeroTrustModule } from 'nestjs-zero-trust';
import type { JwksOptions } from '../../libs/zero-trust/src/options/zero-trust-options.interface.js';
import { ZeroTrustHealthIndicator } from 'nestjs-zero-trust/health';
import { DEMO_API_AUDIENCE } from '../../apps/demo-api/src/config.js';
import { HealthController } from '../../apps/demo-api/src/health/health.controller.js';
import { MeController } from '../../apps/demo-api/src/me/me.controller.js';
import { DEMO_ABILITIES, DEMO_SERVICES } from '../../apps/demo-api/src/policies.js';
import { RecordingSink, type RunningApi } from '../support/demo-api.js';

/** The demo's `/me` and `/health` with the key-cache timing a fault test needs. */
@Module({})
class FaultApiModule {
  static register(issuer: string, jwks: JwksOptions, sink: RecordingSink): DynamicModule {
    return {
      module: FaultApiModule,
      imports: [
        TerminusModule,
        ZeroTrustModule.forRoot({
          issuer,
          audience: DEMO_API_AUDIENCE,
          jwks,
          principals: { services: DEMO_SERVICES },
          abilities: DEMO_ABILITIES,
          audit: { sink },
        }),
      ],
      controllers: [HealthController, MeController],
      providers: [ZeroTrustHealthIndicator],
    };
  }
}

/** Starts the fault API on a random loopback port. */
export async function startFaultApi(
  issuer: string,
  adapter: 'express' | 'fastify',
  jwks: JwksOptions,
): Promise<RunningApi> {
  const sink = new RecordingSink();
  const moduleRef = await Test.createTestingModule({
    imports: [FaultApiModule.register(issuer, jwks, sink)],
  }).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, app, sink, close: () => app.close() };
}
