import {
  Controller,
  Delete,
  Get,
  Injectable,
  Module,
  Param,
  type INestApplication,
  type ModuleMetadata,
} from '@nestjs/common';
import {
  Authenticated,
  AuthorizedResource,
  Can,
  Public,
  ReportOnly,
  RiskPolicy,
  Scopes,
  ZeroTrustConfigurationError,
  ZeroTrustModule,
  type AbilityDefinitions,
  type ResolveContext,
  type SubjectResolver,
  type ZeroTrustModuleOptions,
} from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../support/demo-api.js';
import { CapturingLogger, listenApp } from '../support/nest-app.js';

/**
 * The authoring model cannot fail open: contradictory decorators, a type-level check on a
 * route that names a record, a resolver Nest cannot construct and policies that name nothing
 * are found at boot (an error in strict mode, a warning otherwise), and a contradictory route
 * is never served without authentication.
 */

interface Doc {
  id: string;
  ownerId: string;
}
const DOCS: Doc[] = [
  { id: 'alice-draft', ownerId: 'alice' },
  { id: 'bob-note', ownerId: 'bob' },
];

@Controller('public-class')
@Public()
class PublicClassController {
  @Get()
  @Can('read', 'Report')
  report(): string {
    return 'report';
  }
}

@Controller('authenticated-class')
@Authenticated()
class AuthenticatedClassController {
  @Get()
  @Public()
  open(): string {
    return 'open';
  }
}

@Controller('mixed')
class MixedController {
  @Get('risk')
  @Public()
  @RiskPolicy({ maxScore: 10 })
  risky(): string {
    return 'risky';
  }

  @Get('scoped')
  @Public()
  @Scopes('reports:read')
  scoped(): string {
    return 'scoped';
  }

  /** Not a contradiction: the mode changes how denies are enforced, a public route has none. */
  @Get('report-only')
  @Public()
  @ReportOnly()
  reportOnly(): string {
    return 'open';
  }
}

/** The reproduction: a type-level check on a path naming one document. */
@Controller('documents')
class TypeLevelDocumentsController {
  @Get(':id')
  @Can('read', 'Document')
  get(@Param('id') id: string): Doc | undefined {
    return DOCS.find((d) => d.id === id);
  }
}

/** A class-level type check applies to the controller's parameter routes too. */
@Controller('folders/:folder')
@Can('read', 'Document')
class FolderController {
  @Get('size')
  size(): number {
    return DOCS.length;
  }
}

@Controller('declared')
class DeclaredTypeLevelController {
  @Get(':id/exists')
  @Can('read', 'Document', { typeLevel: true })
  exists(@Param('id') id: string): boolean {
    return DOCS.some((d) => d.id === id);
  }
}

@Injectable()
class DocResolver implements SubjectResolver<Doc> {
  resolve({ params }: ResolveContext): Doc | undefined {
    return DOCS.find((d) => d.id === params.id);
  }
}

@Controller('resolved')
class ResolvedDocumentsController {
  @Get(':id')
  @Can('read', 'Document', { resolve: DocResolver })
  get(@AuthorizedResource() doc: Doc): Doc {
    return doc;
  }
}

/** Declares a controller whose resolver nobody registered. */
@Module({ controllers: [ResolvedDocumentsController] })
class ForgottenResolverModule {}

@Module({ controllers: [ResolvedDocumentsController], providers: [DocResolver] })
class DocumentsModule {}

@Controller('ghosts')
class GhostController {
  @Get()
  @Can('haunt', 'Ghost')
  haunt(): string {
    return 'boo';
  }
}

/** Asks for a recent MFA login: only the risk engine can enforce it. */
@Controller('step-up')
class StepUpController {
  @Delete()
  @Authenticated()
  @RiskPolicy({ acr: 'mfa', maxAuthAge: 300 })
  remove(): string {
    return 'removed';
  }
}

const abilities: AbilityDefinitions = {
  user: (principal, _env, { can }) => {
    can('read', 'Document', { ownerId: principal.id });
  },
};

describe.each(ADAPTERS)('authoring model (%s)', (adapter) => {
  let issuer: TestIssuer;
  let base: ZeroTrustModuleOptions;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    base = { issuer: issuer.url, audience: issuer.audience, abilities };
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await issuer?.close();
  });

  /** Boots an application; resolves with its URL and warnings, or rejects with the boot error. */
  async function boot(
    options: Partial<ZeroTrustModuleOptions>,
    metadata: ModuleMetadata,
  ): Promise<{ url: string; warnings: string[] }> {
    const logger = new CapturingLogger();
    class AppUnderTest {}
    const { app, url } = await listenApp(
      {
        module: AppUnderTest,
        ...metadata,
        imports: [ZeroTrustModule.forRoot({ ...base, ...options }), ...(metadata.imports ?? [])],
      },
      adapter,
      logger,
    );
    apps.push(app);
    return { url, warnings: logger.warnings };
  }

  async function bootError(
    options: Partial<ZeroTrustModuleOptions>,
    metadata: ModuleMetadata,
  ): Promise<ZeroTrustConfigurationError> {
    const error = await boot(options, metadata).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZeroTrustConfigurationError);
    return error as ZeroTrustConfigurationError;
  }

  async function get(url: string, sub?: string): Promise<{ status: number; code?: string }> {
    const headers: Record<string, string> =
      sub === undefined ? {} : { authorization: `Bearer ${issuer.sign({ sub })}` };
    const response = await fetch(url, { headers });
    const text = await response.text();
    const body = (text.startsWith('{') ? JSON.parse(text) : {}) as { code?: string };
    return { status: response.status, ...(body.code ? { code: body.code } : {}) };
  }

  const contradictory = [PublicClassController, AuthenticatedClassController, MixedController];

  it('stops the boot on @Public combined with a protecting decorator, on the class or the handler', async () => {
    const error = await bootError({}, { controllers: contradictory });
    expect(error.code).toBe('ZT_ROUTE_POLICY_INVALID');
    expect(error.problems).toHaveLength(4);
    const text = error.problems.join('\n');
    expect(text).toContain(
      'GET /public-class (PublicClassController.report) is @Public but also has @Can',
    );
    expect(text).toContain(
      'GET /authenticated-class (AuthenticatedClassController.open) is @Public but also has @Authenticated',
    );
    expect(text).toContain(
      'GET /mixed/risk (MixedController.risky) is @Public but also has @RiskPolicy',
    );
    expect(text).toContain(
      'GET /mixed/scoped (MixedController.scoped) is @Public but also has @Scopes',
    );
    expect(text).not.toContain('/mixed/report-only');
  });

  it('without the strict audit, warns and never serves a contradictory route without authentication', async () => {
    const { url, warnings } = await boot(
      { strictRouteAudit: false },
      { controllers: contradictory },
    );
    expect(warnings.join('\n')).toContain(
      'GET /public-class (PublicClassController.report) is @Public but also has @Can',
    );
    for (const path of ['/public-class', '/authenticated-class', '/mixed/risk', '/mixed/scoped']) {
      expect(await get(`${url}${path}`)).toMatchObject({ status: 401, code: 'ZT_TOKEN_MISSING' });
    }
    // Served as protected: @Can and @Scopes decide, @Authenticated lets a principal in, and
    // @RiskPolicy alone is no access policy.
    expect(await get(`${url}/public-class`, 'alice')).toMatchObject({ status: 403 });
    expect(await get(`${url}/authenticated-class`, 'alice')).toMatchObject({ status: 200 });
    expect(await get(`${url}/mixed/risk`, 'alice')).toMatchObject({
      status: 403,
      code: 'ZT_POLICY_MISSING',
    });
    expect(await get(`${url}/mixed/scoped`, 'alice')).toMatchObject({
      status: 403,
      code: 'ZT_INSUFFICIENT_SCOPE',
    });
    expect(await get(`${url}/mixed/report-only`)).toMatchObject({ status: 200 });
  });

  it('stops the boot on a @Can without resolver on a path with parameters, unless typeLevel says so', async () => {
    const error = await bootError(
      {},
      {
        controllers: [TypeLevelDocumentsController, FolderController, DeclaredTypeLevelController],
      },
    );
    expect(error.code).toBe('ZT_ROUTE_POLICY_INVALID');
    expect(error.problems).toHaveLength(2);
    expect(error.problems[0]).toContain(
      'GET /documents/:id (TypeLevelDocumentsController.get) @Can(read, Document) has no resolver on a path with parameters',
    );
    expect(error.problems[0]).toContain('{ typeLevel: true }');
    expect(error.problems[1]).toContain('GET /folders/:folder/size (FolderController.size)');

    // Declared type-level checks and resolved checks boot in strict mode.
    const { url } = await boot(
      {},
      { controllers: [DeclaredTypeLevelController], imports: [DocumentsModule] },
    );
    // The resolver checks the record the path names: bob may not read alice's draft.
    expect(await get(`${url}/resolved/alice-draft`, 'bob')).toMatchObject({ status: 403 });
    expect(await get(`${url}/resolved/alice-draft`, 'alice')).toMatchObject({ status: 200 });
    expect(await get(`${url}/declared/alice-draft/exists`, 'bob')).toMatchObject({ status: 200 });
  });

  it('without the strict audit, warns about the type-level check on a record route', async () => {
    const { warnings } = await boot(
      { strictRouteAudit: false },
      { controllers: [TypeLevelDocumentsController] },
    );
    expect(warnings.join('\n')).toContain(
      'GET /documents/:id (TypeLevelDocumentsController.get) @Can(read, Document) has no resolver',
    );
  });

  it('finds at boot a resolver that is no provider, naming it and the module to register it in', async () => {
    const error = await bootError({}, { imports: [ForgottenResolverModule] });
    expect(error.code).toBe('ZT_ROUTE_POLICY_INVALID');
    expect(error.problems).toEqual([
      'GET /resolved/:id (ResolvedDocumentsController.get) uses resolver DocResolver, which is not a provider of any module: add it to the providers of ForgottenResolverModule (or of a module it imports)',
    ]);
    // Without the strict audit: a warning at boot, and the route fails closed.
    const { url, warnings } = await boot(
      { strictRouteAudit: false },
      { imports: [ForgottenResolverModule] },
    );
    expect(warnings.join('\n')).toContain('uses resolver DocResolver, which is not a provider');
    expect(await get(`${url}/resolved/alice-draft`, 'alice')).toMatchObject({
      status: 503,
      code: 'ZT_RESOLVER_FAILED',
    });
  });

  it('finds at boot a @RiskPolicy the module cannot enforce, having no risk option', async () => {
    const problem =
      'DELETE /step-up (StepUpController.remove) has @RiskPolicy but the module has no `risk` option';
    const error = await bootError({}, { controllers: [StepUpController] });
    expect(error.code).toBe('ZT_ROUTE_POLICY_INVALID');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(problem);
    const { warnings } = await boot(
      { strictRouteAudit: false },
      { controllers: [StepUpController] },
    );
    expect(warnings.join('\n')).toContain(problem);
    // With the risk engine on, the policy applies: nothing to report.
    const enabled = await boot({ risk: {} }, { controllers: [StepUpController] });
    expect(enabled.warnings.join('\n')).not.toContain('@RiskPolicy');
  });

  it('warns when a principal kind has no ability definition or a @Can subject is named by none', async () => {
    const { url, warnings } = await boot(
      { principals: { services: { 'billing-worker': {} } } },
      { controllers: [GhostController], imports: [DocumentsModule] },
    );
    const text = warnings.join('\n');
    expect(text).toContain('No ability definition for principal kind "service"');
    expect(text).not.toContain('principal kind "user"');
    expect(text).not.toContain('principal kind "integration"');
    expect(text).toContain(
      '@Can subject "Ghost" (first used by GET /ghosts (GhostController.haunt))',
    );
    expect(text).not.toContain('"Document"');
    // Warnings only: the route still answers (403, as the policy says).
    expect(await get(`${url}/ghosts`, 'alice')).toMatchObject({ status: 403 });
  });
});

describe('authoring model decorators', () => {
  it('refuses a @Can with both a resolver and typeLevel, and an empty or malformed @Scopes', () => {
    expect(() => Can('read', 'Document', { resolve: DocResolver, typeLevel: true })).toThrow(
      TypeError,
    );
    expect(() => Scopes()).toThrow(TypeError);
    expect(() => Scopes('two words')).toThrow(TypeError);
    expect(() => Scopes('quo"te')).toThrow(TypeError);
  });
});
