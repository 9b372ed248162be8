import { Controller, Get, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ZeroTrustConfigurationError } from 'nestjs-zero-trust';
import { describe, expect, it } from 'vitest';
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

describe('default deny in the demo', () => {
  it('refuses to boot the demo API with an undecorated route, naming it', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.register({
          issuer: 'http://127.0.0.1:9',
          audience: DEMO_API_AUDIENCE,
          adapter: 'express',
          mode: 'enforce',
        }),
        ForgottenModule,
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    const error = await app.listen(0, '127.0.0.1').catch((e: unknown) => e);
    await app.close();
    expect(error).toBeInstanceOf(ZeroTrustConfigurationError);
    expect((error as ZeroTrustConfigurationError).problems).toEqual([
      'GET /internal/export (ForgottenController.exportEverything) has no @Public, @Authenticated or @Can',
    ]);
  });

  it('boots the demo as shipped: every route has a policy', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.register({
          issuer: 'http://127.0.0.1:9',
          audience: DEMO_API_AUDIENCE,
          adapter: 'express',
          mode: 'enforce',
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).resolves.toBe(app);
    await app.close();
  });
});
