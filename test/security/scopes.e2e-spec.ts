import {
  Controller,
  Get,
  type INestApplication,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import { AuditService, type AuditSink, type DecisionEvent } from 'nestjs-zero-trust/audit';
import {
  Authenticated,
  Can,
  ReportOnly,
  Scopes,
  ZeroTrustConfigurationError,
  ZeroTrustModule,
  type ZeroTrustModuleOptions,
} from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../support/demo-api.js';
import { CapturingLogger, listenApp, type ListeningApp } from '../support/nest-app.js';

/**
 * Scopes and lifetimes mean something: a route's `@Scopes` are required of the token (403
 * `insufficient_scope` otherwise, RFC 6750 §3.1, audited), and tokens may not live longer than
 * an hour unless an option that says it is unsafe allows it.
 *
 * The library's behaviour is shown here on routes of its own; the demo API's scopes are proven
 * in demo-scopes.e2e-spec.ts.
 */

@Controller('invoices')
@Scopes('invoices:read')
class InvoicesController {
  @Get()
  @Authenticated()
  list(): string {
    return 'listed';
  }

  /** Class and handler scopes both apply. */
  @Get('export')
  @Scopes('invoices:write')
  @Authenticated()
  export(): string {
    return 'exported';
  }

  /** Scopes alone are a policy: any principal whose token grants them. */
  @Get('count')
  count(): number {
    return 3;
  }

  /** Scopes first, then the ability. */
  @Get('report')
  @Can('read', 'Report')
  report(): string {
    return 'report';
  }
}

@Controller('soft')
@ReportOnly()
class SoftController {
  @Get()
  @Scopes('soft:read')
  soft(): string {
    return 'soft';
  }
}

class Sink implements AuditSink {
  readonly events: DecisionEvent[] = [];
  write(event: DecisionEvent): void {
    this.events.push(event);
  }
}

/** Starts an application of `controllers` with the zero-trust module configured by `options`. */
function start(
  options: ZeroTrustModuleOptions,
  controllers: Type[],
  adapter: (typeof ADAPTERS)[number],
  logger: LoggerService | false = false,
): Promise<ListeningApp> {
  class AppUnderTest {}
  return listenApp(
    { module: AppUnderTest, imports: [ZeroTrustModule.forRoot(options)], controllers },
    adapter,
    logger,
  );
}

describe.each(ADAPTERS)('route scopes (%s)', (adapter) => {
  let issuer: TestIssuer;
  let app: INestApplication;
  let url: string;
  const sink = new Sink();

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    ({ app, url } = await start(
      {
        issuer: issuer.url,
        audience: issuer.audience,
        audit: { sink },
        abilities: {
          user: (principal, _env, { can }) => {
            if (principal.roles.includes('analyst')) can('read', 'Report');
          },
        },
      },
      [InvoicesController, SoftController],
      adapter,
    ));
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  async function get(path: string, claims: Record<string, unknown>) {
    const response = await fetch(`${url}${path}`, {
      headers: { authorization: `Bearer ${issuer.sign({ sub: 'ann', ...claims })}` },
    });
    const text = await response.text();
    const body = (text.startsWith('{') ? JSON.parse(text) : {}) as { code?: string };
    await app.get(AuditService).flush();
    return {
      status: response.status,
      code: body.code,
      challenge: response.headers.get('www-authenticate'),
    };
  }

  it('lets a token through that grants the scopes, from `scope` or `scp`', async () => {
    expect(await get('/invoices', { scope: 'openid invoices:read' })).toMatchObject({
      status: 200,
    });
    expect(await get('/invoices', { scp: ['invoices:read'] })).toMatchObject({ status: 200 });
    expect(await get('/invoices/count', { scope: 'invoices:read' })).toMatchObject({ status: 200 });
    expect(
      await get('/invoices/export', { scope: 'invoices:read', scp: ['invoices:write'] }),
    ).toMatchObject({ status: 200 });
  });

  it('answers 403 insufficient_scope naming every scope the route needs, and audits it', async () => {
    const none = await get('/invoices', {});
    expect(none).toMatchObject({ status: 403, code: 'ZT_INSUFFICIENT_SCOPE' });
    expect(none.challenge).toBe(
      'Bearer error="insufficient_scope", error_description="The access token lacks a scope this route requires", scope="invoices:read"',
    );
    expect(sink.events.at(-1)).toMatchObject({
      action: 'authz_fail',
      decision: 'deny',
      code: 'ZT_INSUFFICIENT_SCOPE',
      principal: { id: 'ann' },
    });
    // One of two scopes is not enough; the challenge lists both.
    const half = await get('/invoices/export', { scope: 'invoices:read' });
    expect(half).toMatchObject({ status: 403, code: 'ZT_INSUFFICIENT_SCOPE' });
    expect(half.challenge).toContain('scope="invoices:read invoices:write"');
    // A scope is a whole token of the claim, not a substring of it.
    expect(await get('/invoices/count', { scope: 'invoices:read:all' })).toMatchObject({
      status: 403,
    });
  });

  it('checks scopes before the ability, and the ability after the scopes', async () => {
    expect(await get('/invoices/report', { roles: ['analyst'] })).toMatchObject({
      status: 403,
      code: 'ZT_INSUFFICIENT_SCOPE',
    });
    expect(await get('/invoices/report', { scope: 'invoices:read' })).toMatchObject({
      status: 403,
      code: 'ZT_ACCESS_DENIED',
    });
    expect(
      await get('/invoices/report', { scope: 'invoices:read', roles: ['analyst'] }),
    ).toMatchObject({ status: 200 });
  });

  it('in report-only mode records a would-deny and lets the request through', async () => {
    expect(await get('/soft', {})).toMatchObject({ status: 200 });
    expect(sink.events.findLast((e) => e.code === 'ZT_INSUFFICIENT_SCOPE')).toMatchObject({
      decision: 'would-deny',
      mode: 'report-only',
    });
  });
});

describe.each(ADAPTERS)('token lifetime (%s)', (adapter) => {
  let issuer: TestIssuer;
  let base: ZeroTrustModuleOptions;
  beforeAll(async () => {
    issuer = await TestIssuer.start();
    base = { issuer: issuer.url, audience: issuer.audience };
  });
  afterAll(async () => {
    await issuer?.close();
  });

  @Controller('me')
  class MeController {
    @Get()
    @Authenticated()
    me(): { ok: boolean } {
      return { ok: true };
    }
  }

  it('refuses a maximum lifetime above one hour without unsafeAllowLongLivedTokens', async () => {
    const error = await start({ ...base, maxTokenLifetime: 7200 }, [MeController], adapter).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ZeroTrustConfigurationError);
    expect((error as ZeroTrustConfigurationError).problems).toEqual([
      'maxTokenLifetime must not exceed 3600 seconds unless unsafeAllowLongLivedTokens is true',
    ]);
    const notBoolean = await start(
      { ...base, unsafeAllowLongLivedTokens: 'yes' as never },
      [MeController],
      adapter,
    ).catch((e: unknown) => e);
    expect((notBoolean as ZeroTrustConfigurationError).problems).toEqual([
      'unsafeAllowLongLivedTokens must be a boolean',
    ]);
    // One hour is allowed as is.
    const hour = await start({ ...base, maxTokenLifetime: 3600 }, [MeController], adapter);
    await hour.app.close();
  });

  it('with unsafeAllowLongLivedTokens, accepts long-lived tokens and says so at boot', async () => {
    const logger = new CapturingLogger();
    const { app, url } = await start(
      { ...base, maxTokenLifetime: 7200, unsafeAllowLongLivedTokens: true },
      [MeController],
      adapter,
      logger,
    );
    try {
      expect(logger.warnings.join('\n')).toContain(
        'unsafeAllowLongLivedTokens: tokens living up to 7200 seconds are accepted',
      );
      const now = Math.floor(Date.now() / 1000);
      const token = issuer.sign({ iat: now, exp: now + 7200 });
      const response = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
