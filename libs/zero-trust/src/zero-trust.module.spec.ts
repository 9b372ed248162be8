import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticated, Public } from './routes/decorators.js';
import { RouteAuditService } from './routes/route-audit.service.js';
import { ZeroTrustConfigurationError } from './errors/zero-trust.error.js';
import type { ZeroTrustModuleOptions } from './options/zero-trust-options.interface.js';
import { TestIssuer } from './testing/test-issuer.js';
import { ZeroTrustModule } from './zero-trust.module.js';
import type { ZeroTrustOptionsFactory } from './zero-trust.module-definition.js';
import { ZERO_TRUST_OPTIONS } from './zero-trust.constants.js';
import type { ResolvedZeroTrustOptions } from './options/validate-options.js';

@Controller('probe')
class ProbeController {
  @Get('open')
  @Public()
  open(): string {
    return 'open';
  }

  @Get('me')
  @Authenticated()
  me(): string {
    return 'me';
  }
}

@Controller('leaky')
class LeakyController {
  @Get()
  forgotten(): string {
    return 'nobody decided who may call this';
  }

  @Get('second')
  alsoForgotten(): string {
    return 'nor this';
  }
}

describe('ZeroTrustModule', () => {
  let issuer: TestIssuer;
  let base: ZeroTrustModuleOptions;
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    base = { issuer: issuer.url, audience: issuer.audience };
  });
  afterAll(async () => {
    await issuer.close();
  });

  async function boot(imports: unknown[], controllers: unknown[] = [ProbeController]) {
    const moduleRef = await Test.createTestingModule({
      imports: imports as never[],
      controllers: controllers as never[],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app;
  }

  it('forRoot applies the defaults', async () => {
    const app = await boot([ZeroTrustModule.forRoot(base)]);
    const options = app.get<ResolvedZeroTrustOptions>(ZERO_TRUST_OPTIONS);
    expect(options).toMatchObject({
      maxTokenLifetime: 900,
      tokenTypes: ['at+jwt'],
      mode: 'enforce',
      strictRouteAudit: true,
      maxTokenSize: 8192,
    });
    expect(options.algorithms).not.toContain('HS256');
    await app.close();
  });

  it('forRootAsync with useFactory and inject', async () => {
    const CONFIG = 'CONFIG';
    @Module({ providers: [{ provide: CONFIG, useValue: { lifetime: 300 } }], exports: [CONFIG] })
    class ConfigModule {}
    const app = await boot([
      ZeroTrustModule.forRootAsync({
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: (config: { lifetime: number }) => ({
          ...base,
          maxTokenLifetime: config.lifetime,
        }),
      }),
    ]);
    expect(app.get<ResolvedZeroTrustOptions>(ZERO_TRUST_OPTIONS).maxTokenLifetime).toBe(300);
    await app.close();
  });

  it('forRootAsync with useClass and useExisting', async () => {
    @Injectable()
    class OptionsFactory implements ZeroTrustOptionsFactory {
      createZeroTrustOptions(): ZeroTrustModuleOptions {
        return { ...base, mode: 'report-only' };
      }
    }
    const viaClass = await boot([ZeroTrustModule.forRootAsync({ useClass: OptionsFactory })]);
    expect(viaClass.get<ResolvedZeroTrustOptions>(ZERO_TRUST_OPTIONS).mode).toBe('report-only');
    await viaClass.close();

    @Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
    class FactoryModule {}
    const viaExisting = await boot([
      ZeroTrustModule.forRootAsync({ imports: [FactoryModule], useExisting: OptionsFactory }),
    ]);
    expect(viaExisting.get<ResolvedZeroTrustOptions>(ZERO_TRUST_OPTIONS).mode).toBe('report-only');
    await viaExisting.close();
  });

  it('lists every invalid option in one error, without echoing values', async () => {
    const secret = 'super-secret-value';
    const error = await boot([
      ZeroTrustModule.forRoot({
        issuer: 'http://idp.example.com',
        audience: '',
        algorithms: ['HS256', 'none'] as never,
        maxTokenLifetime: -1,
        mode: 'audit' as never,
        jwksUri: `ftp://${secret}@example.com`,
        abilities: { robot: () => undefined } as never,
        surprise: secret,
      } as never),
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZeroTrustConfigurationError);
    const config = error as ZeroTrustConfigurationError;
    expect(config.code).toBe('ZT_OPTIONS_INVALID');
    expect(config.problems).toHaveLength(9);
    expect(config.message).toContain('issuer must be an https URL');
    expect(config.message).toContain('audience is required');
    expect(config.message).toContain('algorithms[0] must be an asymmetric algorithm');
    expect(config.message).toContain('algorithms[1] must be an asymmetric algorithm');
    expect(config.message).toContain('maxTokenLifetime must be a positive number');
    expect(config.message).toContain('mode must be "enforce" or "report-only"');
    expect(config.message).toContain('abilities.robot: unknown principal kind');
    expect(config.message).toContain('unknown option "surprise"');
    expect(config.message).toContain('jwksUri must be an https URL');
    expect(config.message).not.toContain(secret);
  });

  it('stops the boot naming every route without a policy', async () => {
    const error = await boot(
      [ZeroTrustModule.forRoot(base)],
      [ProbeController, LeakyController],
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZeroTrustConfigurationError);
    const config = error as ZeroTrustConfigurationError;
    expect(config.code).toBe('ZT_ROUTES_UNPROTECTED');
    expect(config.problems).toEqual([
      'GET /leaky (LeakyController.forgotten) has no @Public, @Authenticated, @Scopes or @Can',
      'GET /leaky/second (LeakyController.alsoForgotten) has no @Public, @Authenticated, @Scopes or @Can',
    ]);
  });

  it('with strictRouteAudit off, boots and lists the routes with their policy', async () => {
    const app = await boot(
      [ZeroTrustModule.forRoot({ ...base, strictRouteAudit: false })],
      [ProbeController, LeakyController],
    );
    const routes = app.get(RouteAuditService).routes();
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /probe/open',
      'GET /probe/me',
      'GET /leaky',
      'GET /leaky/second',
    ]);
    expect(routes.find((r) => r.path === '/probe/open')?.isPublic).toBe(true);
    await app.close();
  });
});
