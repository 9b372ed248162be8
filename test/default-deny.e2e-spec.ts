import { Controller, Get, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ZeroTrustConfigurationError } from 'nestjs-zero-trust';
import { describe, expect, it } from 'vitest';
import { useWebSockets } from '../apps/demo-api/src/app.js';
import { AppModule } from '../apps/demo-api/src/app.module.js';
import { DEMO_API_AUDIENCE } from '../apps/demo-api/src/config.js';

/** A controller someone added to the demo and forgot to protect. */
@Controller('internal')
class ForgottenController {
  @Get('export')
  exportEverything(): string {
    return 'every invoice, for anyone';
  }
}

@Module({ controllers: [ForgottenController] })
class ForgottenModule {}

/** Compiles the real demo module, plus extra modules, into an application that is not yet started. */
async function demoWith(...extra: (typeof ForgottenModule)[]) {
  const config = {
    issuer: 'http://127.0.0.1:9',
    audience: DEMO_API_AUDIENCE,
    adapter: 'express',
    mode: 'enforce',
    // As shipped (RISK_MODE defaults to enforce): the route audit is strict.
    riskMode: 'enforce',
  } as const;
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.register(config), ...extra],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  useWebSockets(app);
  return app;
}

describe('default deny in the demo', () => {
  it('refuses to boot the demo API with an undecorated route, naming it', async () => {
    const app = await demoWith(ForgottenModule);
    const error = await app.listen(0, '127.0.0.1').catch((e: unknown) => e);
    await app.close();
    expect(error).toBeInstanceOf(ZeroTrustConfigurationError);
    expect((error as ZeroTrustConfigurationError).problems).toEqual([
      'GET /internal/export (ForgottenController.exportEverything) has no @Public, @Authenticated, @Scopes or @Can',
    ]);
  });

  it('boots the demo as shipped: every route has a policy', async () => {
    const app = await demoWith();
    await expect(app.init()).resolves.toBe(app);
    await app.close();
  });
});
