import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Injectable,
  Param,
  Patch,
  Post,
  type INestApplication,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { guard } from '@ucast/mongo2js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditSink } from '../audit/audit-sink.interface.js';
import type { DecisionEvent } from '../audit/decision-event.interface.js';
import type { ZeroTrustModuleOptions } from '../options/zero-trust-options.interface.js';
import type { RevocationStore } from '../stores/revocation-store.interface.js';
import { createTestPrincipal } from '../testing/ability-testing.js';
import { TestIssuer } from '../testing/test-issuer.js';
import { ZeroTrustModule } from '../zero-trust.module.js';
import { AbilityFactory } from './ability.factory.js';
import type { AbilityDefinitions } from './ability.types.js';
import { AuthorizationService } from './authorization.service.js';
import { Authenticated, Can, Mode, ReportOnly } from '../routes/decorators.js';
import { AuthorizedResource, CurrentAbility } from '../routes/param-decorators.js';
import type { ResolveContext, SubjectResolver } from '../routes/resolver.interface.js';

interface Doc {
  id: string;
  ownerId: string;
  title: string;
  secret: string;
}
const DOCS: Doc[] = [
  { id: 'd1', ownerId: 'ann', title: 'Ann 1', secret: 's1' },
  { id: 'd2', ownerId: 'ben', title: 'Ben 1', secret: 's2' },
];

@Injectable()
class DocResolver implements SubjectResolver<Doc> {
  static calls = 0;
  resolve({ params }: ResolveContext): Doc | undefined {
    DocResolver.calls += 1;
    if (params.id === 'boom') throw new Error('database down: connection string postgres://u:p@db');
    if (params.id === 'bad') throw new BadRequestException('Bad id');
    return DOCS.find((d) => d.id === params.id);
  }
}

@Controller('docs')
// Any workspace reader: a gate on the subject type, not on a record of the path.
@Can('read', 'Workspace', { typeLevel: true })
class DocsController {
  @Get(':id')
  @Can('read', 'Doc', { resolve: DocResolver })
  get(@AuthorizedResource('Doc') doc: Doc): Doc {
    return doc;
  }

  @Get(':id/by-function')
  @Can('read', 'Doc', { resolve: ({ params }) => DOCS.find((d) => d.id === params.id) })
  byFunction(@AuthorizedResource() doc: Doc): Doc {
    return doc;
  }

  @Patch(':id')
  @Can('update', 'Doc', { resolve: DocResolver })
  update(@Param('id') id: string, @Body() body: Record<string, unknown>): Record<string, unknown> {
    return { id, ...body };
  }

  @Patch(':id/unchecked-fields')
  @Can('update', 'Doc', { resolve: DocResolver, fields: false })
  updateUnchecked(@Param('id') id: string): { id: string } {
    return { id };
  }

  @Post(':id/publish')
  @Can('update', 'Doc', { resolve: DocResolver, fields: () => ['published'] })
  publish(@Param('id') id: string): { id: string } {
    return { id };
  }

  @Get(':id/audit')
  @Can('read', 'Doc', { resolve: DocResolver })
  @Can('audit', 'Doc', { resolve: DocResolver })
  auditLog(): string {
    return 'audit';
  }

  @Get(':id/trial')
  @ReportOnly()
  @Can('delete', 'Doc', { resolve: DocResolver })
  trial(): string {
    return 'trial';
  }
}

@Controller('reports')
@ReportOnly()
class ReportsController {
  @Get('soft')
  @Can('read', 'Report')
  soft(): string {
    return 'soft';
  }

  @Get('strict')
  @Mode('enforce')
  @Can('read', 'Report')
  strict(): string {
    return 'strict';
  }
}

class Article {
  constructor(
    readonly id: string,
    readonly ownerId: string,
  ) {}
}

/** A resolver that answers later, as a database would: a real timer, then the record or an error. */
@Injectable()
class SlowDocResolver implements SubjectResolver<Doc> {
  static calls = 0;
  async resolve({ params }: ResolveContext): Promise<Doc | undefined> {
    SlowDocResolver.calls += 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (params.id === 'boom') throw new Error('database down: connection string postgres://u:p@db');
    if (params.id === 'bad') throw new BadRequestException('Bad id');
    return DOCS.find((d) => d.id === params.id);
  }
}

@Controller('slow-docs')
class SlowDocsController {
  @Get(':id')
  @Can('read', 'Doc', { resolve: SlowDocResolver })
  get(@AuthorizedResource('Doc') doc: Doc): Doc {
    return doc;
  }

  @Get(':id/audit')
  @Can('read', 'Doc', { resolve: SlowDocResolver })
  @Can('audit', 'Doc', { resolve: SlowDocResolver })
  auditLog(): string {
    return 'audit';
  }
}

@Controller('articles')
class ArticlesController {
  @Get()
  @Can('list', Article)
  list(): string {
    return 'articles';
  }

  @Get(':id')
  @Can('read', Article, {
    resolve: ({ params }) =>
      params.id === 'a1' ? new Article('a1', 'ann') : { id: params.id, ownerId: 'ben' },
  })
  get(@AuthorizedResource('Article') article: Article): Article {
    return article;
  }
}

abstract class CrudController {
  @Get()
  list(): string {
    return 'listed';
  }
}

@Controller('open-docs')
@Can('read', 'Workspace')
class WorkspaceListController extends CrudController {}

@Controller('secret-docs')
@Can('read', 'Vault')
class VaultListController extends CrudController {}

@Controller('misc')
class MiscController {
  @Get('me')
  @Authenticated()
  me(@CurrentAbility() ability: unknown): { hasAbility: boolean } {
    return { hasAbility: ability !== undefined };
  }

  @Get('forgotten')
  forgotten(): string {
    return 'should never be served';
  }
}

const abilities: AbilityDefinitions = {
  user: (principal, _env, { can, cannot }) => {
    can('read', 'Workspace');
    can('list', Article);
    can('read', 'Article', { ownerId: principal.id });
    can('read', 'Doc', { ownerId: principal.id });
    can('update', 'Doc', ['title'], { ownerId: principal.id });
    if (principal.roles.includes('auditor')) {
      can('read', 'Doc');
      can('audit', 'Doc');
      cannot('read', 'Doc', { ownerId: 'ben' });
    }
  },
};

class Sink implements AuditSink {
  events: DecisionEvent[] = [];
  failing = false;
  write(event: DecisionEvent): void {
    if (this.failing) throw new Error('sink down');
    this.events.push(event);
  }
}

describe.each(['express', 'fastify'] as const)('authorization guard (%s)', (adapter) => {
  let issuer: TestIssuer;
  let app: INestApplication;
  let url: string;
  const sink = new Sink();
  const store: RevocationStore & { failing: boolean; throwing: boolean } = {
    failing: false,
    throwing: false,
    revokeToken: () => Promise.resolve(),
    revokeIssuedBefore: () => Promise.resolve(),
    isRevoked(): Promise<boolean> {
      // A store broken before it could even return its promise.
      if (this.throwing) throw new Error('store client closed');
      return this.failing ? Promise.reject(new Error('store unreachable')) : Promise.resolve(false);
    },
  };

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    const options: ZeroTrustModuleOptions = {
      issuer: issuer.url,
      audience: issuer.audience,
      abilities,
      strictRouteAudit: false,
      store: { type: 'custom', revocations: store },
      audit: { sink },
    };
    const moduleRef = await Test.createTestingModule({
      imports: [ZeroTrustModule.forRoot(options)],
      controllers: [
        DocsController,
        ReportsController,
        MiscController,
        ArticlesController,
        WorkspaceListController,
        VaultListController,
        SlowDocsController,
      ],
      providers: [DocResolver, SlowDocResolver],
    }).compile();
    app =
      adapter === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
        : moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  async function call(
    method: string,
    path: string,
    sub = 'ann',
    body?: unknown,
    roles: string[] = [],
  ) {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${issuer.sign({ sub, roles })}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    const json = response.headers.get('content-type')?.includes('json') ?? false;
    return {
      status: response.status,
      body: (json ? JSON.parse(text) : { text }) as Record<string, unknown>,
    };
  }

  it('checks conditions against the record a class resolver loaded, and hands it to the handler', async () => {
    const own = await call('GET', '/docs/d1');
    expect(own).toMatchObject({ status: 200, body: { id: 'd1', ownerId: 'ann' } });
    expect((await call('GET', '/docs/d2')).status).toBe(403);
    expect((await call('GET', '/docs/d3')).status).toBe(404);
  });

  it('accepts a class as subject, matching rules written with the class or its name', async () => {
    expect((await call('GET', '/articles')).status).toBe(200);
    expect((await call('GET', '/articles/a1')).status).toBe(200);
    // A plain object from the resolver is tagged with the subject name.
    expect((await call('GET', '/articles/a2')).status).toBe(403);
  });

  it('applies the class policy of each controller to an inherited handler', async () => {
    expect((await call('GET', '/open-docs')).status).toBe(200);
    expect((await call('GET', '/secret-docs')).status).toBe(403);
  });

  it('supports function resolvers', async () => {
    expect((await call('GET', '/docs/d1/by-function')).status).toBe(200);
    expect((await call('GET', '/docs/d2/by-function')).status).toBe(403);
    expect((await call('GET', '/docs/nope/by-function')).status).toBe(404);
  });

  it('fails closed with 503 when a resolver throws, without leaking its message; passes HTTP errors through', async () => {
    const boom = await call('GET', '/docs/boom');
    expect(boom.status).toBe(503);
    expect(boom.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'ZT_RESOLVER_FAILED',
      message: 'The resource could not be loaded to check access',
    });
    expect((await call('GET', '/docs/bad')).status).toBe(400);
  });

  it('waits for a resolver that answers later: the same decisions, errors and single load', async () => {
    const own = await call('GET', '/slow-docs/d1');
    expect(own).toMatchObject({ status: 200, body: { id: 'd1' } });
    expect((await call('GET', '/slow-docs/d2')).status).toBe(403);
    expect((await call('GET', '/slow-docs/nope')).body.code).toBe('ZT_RESOURCE_NOT_FOUND');
    const boom = await call('GET', '/slow-docs/boom');
    expect(boom).toMatchObject({ status: 503, body: { code: 'ZT_RESOLVER_FAILED' } });
    expect(JSON.stringify(boom.body)).not.toContain('postgres');
    expect((await call('GET', '/slow-docs/bad')).status).toBe(400);
    SlowDocResolver.calls = 0;
    // ann holds no rule for auditing any Doc: refused before the record is loaded.
    expect((await call('GET', '/slow-docs/d1/audit')).status).toBe(403);
    expect(SlowDocResolver.calls).toBe(0);
    expect((await call('GET', '/slow-docs/d1/audit', 'ann', undefined, ['auditor'])).status).toBe(
      200,
    );
    // Two checks, one resolver: the record is loaded once per request, the second check waits.
    expect(SlowDocResolver.calls).toBe(1);
  });

  it('requires every @Can of the class and the handler', async () => {
    // ann can read her doc but is no auditor.
    expect((await call('GET', '/docs/d1/audit')).status).toBe(403);
    DocResolver.calls = 0;
    expect((await call('GET', '/docs/d1/audit', 'ann', undefined, ['auditor'])).status).toBe(200);
    // Two checks, one resolver: the record is loaded once per request.
    expect(DocResolver.calls).toBe(1);
    // An inverted rule wins for the auditor on ben's document.
    expect((await call('GET', '/docs/d2/audit', 'ann', undefined, ['auditor'])).status).toBe(403);
  });

  it('checks body fields by default on PATCH, with a function, or not at all when disabled', async () => {
    expect((await call('PATCH', '/docs/d1', 'ann', { title: 'New' })).status).toBe(200);
    const denied = await call('PATCH', '/docs/d1', 'ann', {
      title: 'New',
      ownerId: 'ben',
      secret: 'x',
    });
    expect(denied).toMatchObject({
      status: 403,
      body: { code: 'ZT_FIELDS_DENIED', fields: ['ownerId', 'secret'] },
    });
    expect((await call('PATCH', '/docs/d1/unchecked-fields', 'ann', { secret: 'x' })).status).toBe(
      200,
    );
    expect((await call('POST', '/docs/d1/publish', 'ann', {})).body.code).toBe('ZT_FIELDS_DENIED');
  });

  it('report-only per handler and per class; @Mode("enforce") overrides', async () => {
    const trial = await call('GET', '/docs/d1/trial');
    expect(trial.status).toBe(200);
    expect(sink.events.at(-1)).toMatchObject({
      action: 'authz_fail',
      decision: 'would-deny',
      mode: 'report-only',
      authorization: { subjectId: 'd1' },
    });
    expect((await call('GET', '/reports/soft')).status).toBe(200);
    expect((await call('GET', '/reports/strict')).status).toBe(403);
    expect(sink.events.at(-1)).toMatchObject({ decision: 'deny', mode: 'enforce' });
  });

  it('denies a route without a policy at runtime when the boot audit is not strict', async () => {
    const response = await call('GET', '/misc/forgotten');
    expect(response).toMatchObject({ status: 403, body: { code: 'ZT_POLICY_MISSING' } });
  });

  it('builds no ability for @Authenticated routes', async () => {
    expect((await call('GET', '/misc/me')).body).toEqual({ hasAbility: false });
  });

  it('fails closed with 503 when the revocation store is unreachable', async () => {
    store.failing = true;
    try {
      const response = await call('GET', '/misc/me');
      expect(response).toMatchObject({ status: 503, body: { code: 'ZT_STORE_UNAVAILABLE' } });
    } finally {
      store.failing = false;
    }
    store.throwing = true;
    try {
      const response = await call('GET', '/misc/me');
      expect(response).toMatchObject({ status: 503, body: { code: 'ZT_STORE_UNAVAILABLE' } });
      expect(JSON.stringify(response.body)).not.toContain('closed');
    } finally {
      store.throwing = false;
    }
  });

  it('never fails a request because the audit sink fails', async () => {
    sink.failing = true;
    try {
      expect((await call('GET', '/docs/d1')).status).toBe(200);
    } finally {
      sink.failing = false;
    }
  });

  it('caches abilities per principal identity, and never caches one that reads env', async () => {
    const factory = app.get(AbilityFactory);
    const ann = createTestPrincipal({ id: 'ann' });
    const env = { time: new Date(), ip: '127.0.0.1', requestId: 'r' };
    const first = await factory.createFor(ann, env);
    expect(await factory.createFor({ ...ann, token: { ...ann.token, jti: 'other' } }, env)).toBe(
      first,
    );
    expect(await factory.createFor({ ...ann, roles: ['auditor'] }, env)).not.toBe(first);
    // A long identity (kept as a digest rather than as is) is cached and told apart the same way.
    const long = createTestPrincipal({ id: 'ann', attributes: { note: 'x'.repeat(400) } });
    const longFirst = await factory.createFor(long, env);
    expect(longFirst).not.toBe(first);
    expect(await factory.createFor({ ...long, token: { ...long.token, jti: 'other' } }, env)).toBe(
      longFirst,
    );
    expect(
      await factory.createFor({ ...long, attributes: { note: 'y'.repeat(400) } }, env),
    ).not.toBe(longFirst);
  });
});

describe('AbilityFactory with env-dependent rules', () => {
  it('rebuilds an ability whose definition reads env', async () => {
    const issuer = await TestIssuer.start();
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [
          ZeroTrustModule.forRoot({
            issuer: issuer.url,
            audience: issuer.audience,
            abilities: {
              user: (_p, env, { can }) => void (env.time.getUTCHours() < 12 && can('read', 'Doc')),
            },
          }),
        ],
      }).compile();
      const factory = moduleRef.get(AbilityFactory);
      const principal = createTestPrincipal();
      const morning = await factory.createFor(principal, {
        time: new Date('2026-01-01T08:00:00Z'),
        ip: undefined,
        requestId: '1',
      });
      const evening = await factory.createFor(principal, {
        time: new Date('2026-01-01T20:00:00Z'),
        ip: undefined,
        requestId: '2',
      });
      expect(morning.can('read', 'Doc')).toBe(true);
      expect(evening.can('read', 'Doc')).toBe(false);
    } finally {
      await issuer.close();
    }
  });
});

describe('AbilityFactory failures', () => {
  it('refuses with 503 ZT_POLICY_FAILED when a definition throws, and caches without serializable attributes', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: 'https://issuer.test.local',
          audience: 'a',
          abilities: {
            user: (principal, _env, { can }) => {
              if (principal.id === 'broken') throw new Error('rules table unreachable');
              can('read', 'Doc');
            },
          },
        }),
      ],
    }).compile();
    const factory = moduleRef.get(AbilityFactory);
    const env = { time: new Date(), ip: undefined, requestId: 'r' };
    const error = await factory
      .createFor(createTestPrincipal({ id: 'broken' }), env)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ZT_POLICY_FAILED',
      message: 'The access policy could not be evaluated',
    });
    expect((error as { getStatus(): number }).getStatus()).toBe(503);
    const odd = createTestPrincipal({ id: 'odd', attributes: { quota: 10n } });
    await expect(factory.createFor(odd, env)).resolves.toBeDefined();
  });
});

describe('AuthorizationService.conditionFor', () => {
  const records = Array.from({ length: 200 }, (_, i) => ({
    id: `r${i}`,
    ownerId: ['ann', 'ben', 'cid'][i % 3] as string,
    status: ['draft', 'issued', 'void'][Math.floor(i / 3) % 3] as string,
    amount: (i * 37) % 1000,
  }));
  const cases: [string, AbilityDefinitions['user']][] = [
    ['one conditional rule', (_p, _e, { can }) => void can('read', 'Inv', { ownerId: 'ann' })],
    [
      'two rules, OR-ed',
      (_p, _e, { can }) => (
        can('read', 'Inv', { ownerId: 'ann' }),
        void can('read', 'Inv', { status: 'void' })
      ),
    ],
    [
      'a cannot after a can',
      (_p, _e, { can, cannot }) => (
        can('read', 'Inv'),
        void cannot('read', 'Inv', { status: 'void' })
      ),
    ],
    [
      'operators',
      (_p, _e, { can, cannot }) => (
        can('read', 'Inv', { amount: { $gte: 500 } }),
        void cannot('read', 'Inv', { ownerId: { $in: ['ben'] } })
      ),
    ],
    ['nothing', () => undefined],
  ];

  it.each(cases)('returns exactly the records the ability allows: %s', async (_name, define) => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: 'https://issuer.test.local',
          audience: 'a',
          abilities: { user: define },
        }),
      ],
    }).compile();
    const authz = moduleRef.get(AuthorizationService);
    const ability = await authz.abilityFor(createTestPrincipal());
    const condition = authz.conditionFor(ability, 'read', 'Inv');
    const viaCondition = condition === null ? [] : records.filter((r) => guard(condition)(r));
    const viaAbility = authz.filter(ability, 'read', 'Inv', records);
    expect(viaCondition.map((r) => r.id)).toEqual(viaAbility.map((r) => r.id));
  });
});

describe('AbilityFactory cache key', () => {
  it('builds each token its own ability when tokens of one principal differ in auth_time, cnf or device', async () => {
    // A definition that grants deletes only to a fresh login, and more to a DPoP-bound token.
    const moduleRef = await Test.createTestingModule({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: 'https://issuer.test.local',
          audience: 'a',
          abilities: {
            user: (principal, _env, { can }) => {
              can('read', 'Doc');
              if ((principal.token.authTime ?? 0) >= 1_000) can('delete', 'Doc');
              if (principal.token.cnf?.jkt !== undefined) can('update', 'Doc');
              if (principal.token.device === 'laptop') can('share', 'Doc');
            },
          },
        }),
      ],
    }).compile();
    const factory = moduleRef.get(AbilityFactory);
    const env = { time: new Date(), ip: undefined, requestId: 'r' };
    const ann = createTestPrincipal({ id: 'ann' });
    const withToken = (token: Partial<typeof ann.token>) => ({
      ...ann,
      token: { ...ann.token, ...token },
    });
    const stale = await factory.createFor(withToken({ authTime: 10 }), env);
    const fresh = await factory.createFor(withToken({ authTime: 2_000 }), env);
    expect(stale.can('delete', 'Doc')).toBe(false);
    expect(fresh.can('delete', 'Doc')).toBe(true);
    // And the other way round: the cached fresh-login ability is not given to a stale token.
    expect((await factory.createFor(withToken({ authTime: 10 }), env)).can('delete', 'Doc')).toBe(
      false,
    );
    expect((await factory.createFor(withToken({}), env)).can('update', 'Doc')).toBe(false);
    expect(
      (await factory.createFor(withToken({ cnf: { jkt: 'key-1' } }), env)).can('update', 'Doc'),
    ).toBe(true);
    expect(
      (await factory.createFor(withToken({ cnf: { 'x5t#S256': 'cert-1' } }), env)).can(
        'update',
        'Doc',
      ),
    ).toBe(false);
    expect(
      (await factory.createFor(withToken({ device: 'laptop' }), env)).can('share', 'Doc'),
    ).toBe(true);
    expect((await factory.createFor(withToken({ device: 'phone' }), env)).can('share', 'Doc')).toBe(
      false,
    );
  });
});
