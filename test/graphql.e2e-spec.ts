import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import {
  Args,
  GraphQLModule,
  Info,
  Mutation,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import { guard } from '@ucast/mongo2js';
import {
  Authenticated,
  AuthorizedResource,
  Can,
  CurrentPrincipal,
  PolicyService,
  RevocationService,
  RiskPolicy,
  ZeroTrustModule,
  type Principal,
} from 'nestjs-zero-trust';
import { parentOf, refuseWholeOperation } from 'nestjs-zero-trust/graphql';
import { AuditService, type DecisionEvent } from 'nestjs-zero-trust/audit';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from './support/demo-api.js';
import { listenApp, type ListeningApp } from './support/nest-app.js';

/*
 * GraphQL (Apollo, on Express and on Fastify) through the same pipeline as REST: the token of the
 * operation's HTTP request, @Can on queries, mutations and field resolvers with resolvers of
 * record reading the field's arguments or its parent, lists scoped by the policy, refusals as
 * GraphQL errors with a code, the other fields still served.
 */
const INVOICES = [
  { id: 'inv-1', customer: 'bob', amount: 100, notes: 'bob pays late' },
  { id: 'inv-2', customer: 'dave', amount: 250, notes: 'dave disputes it' },
  { id: 'inv-3', customer: 'bob', amount: 300, notes: 'bob again' },
];
const deleted: string[] = [];
const renamed: string[] = [];

const typeDefs = /* GraphQL */ `
  type Invoice {
    id: ID!
    customer: String!
    amount: Int!
    notes: String
    viewer: String
    loadedBy: String
  }
  type Query {
    invoice(id: ID!): Invoice
    invoices: [Invoice!]!
    me: String
  }
  type Mutation {
    deleteInvoice(id: ID!): Boolean
    renameInvoice(id: ID!, customer: String!): String
  }
`;

const byId = ({ params }: { params: Readonly<Record<string, string | undefined>> }) =>
  INVOICES.find((invoice) => invoice.id === params.id);

@Resolver('Invoice')
class InvoiceResolvers {
  constructor(private readonly policies: PolicyService) {}

  @Query('invoice')
  @Can('read', 'Invoice', { resolve: byId })
  invoice(@Args('id') id: string) {
    return INVOICES.find((invoice) => invoice.id === id);
  }

  @Query('me')
  @Authenticated()
  me(@CurrentPrincipal() principal: Principal | undefined): string | undefined {
    return principal?.id;
  }

  /** A list scoped as `GET /invoices` is: the policy's condition, from the field's `info`. */
  @Query('invoices')
  @Can('read', 'Invoice')
  async invoices(@Info() info: object) {
    const condition = await this.policies.conditionFor(info, 'read', 'Invoice');
    return condition === null ? [] : INVOICES.filter(guard(condition));
  }

  @Mutation('deleteInvoice')
  @Can('delete', 'Invoice', { resolve: byId })
  deleteInvoice(@Args('id') id: string): boolean {
    deleted.push(id);
    return true;
  }

  /** The record the field's own resolver loaded: each alias gets its own. */
  @Mutation('renameInvoice')
  @Can('update', 'Invoice', { resolve: byId })
  renameInvoice(@AuthorizedResource() invoice: { id: string }): string {
    renamed.push(invoice.id);
    return invoice.id;
  }

  /** A field with a policy of its own, decided on its parent (one decision per parent). */
  @ResolveField('notes')
  @Can('read', 'Invoice', { resolve: parentOf, fields: () => ['notes'] })
  notes(@Parent() invoice: { notes: string }): string {
    return invoice.notes;
  }

  /** A field without a policy of its own: served under its root field's decision. */
  @ResolveField('viewer')
  viewer(@CurrentPrincipal() principal: Principal | undefined): string | undefined {
    return principal?.id;
  }

  /** The record its root field loaded, for a field below it. */
  @ResolveField('loadedBy')
  loadedBy(@AuthorizedResource() invoice: { id: string } | undefined): string | undefined {
    return invoice?.id;
  }
}

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
});

/** POSTs `query` (a string, or a whole request body) to `${url}/graphql`, with `token` if any. */
async function postGraphql(url: string, query: string | object, token?: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(typeof query === 'string' ? { query } : query),
  });
  const body = (await response.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: string[]; extensions: Record<string, unknown> }[];
  };
  return { status: response.status, body, challenge: response.headers.get('www-authenticate') };
}

describe.each(ADAPTERS)('GraphQL over %s (Apollo)', (adapter) => {
  const events: DecisionEvent[] = [];
  let api: ListeningApp;

  beforeAll(async () => {
    @Module({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: issuer.url,
          audience: issuer.audience,
          abilities: {
            user: (principal, _env, { can }) => {
              // A customer reads his invoices, their notes above 200 only, and may rename them.
              can('read', 'Invoice', ['id', 'customer', 'amount'], { customer: principal.id });
              can('read', 'Invoice', ['notes'], { customer: principal.id, amount: { $gt: 200 } });
              can('update', 'Invoice', { customer: principal.id });
              if (principal.roles.includes('admin')) can(['read', 'delete'], 'Invoice');
            },
          },
          audit: { sink: { write: (event) => void events.push(event) } },
        }),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          typeDefs,
          path: '/graphql',
          includeStacktraceInErrorResponses: false,
          // Let an authentication failure answer HTTP 401 (Nest's default keeps 200).
          preserveHttpStatusForExecutionErrors: false,
          // Field resolvers with a policy of their own are decided (the boot refuses them without).
          fieldResolverEnhancers: ['guards'],
        }),
      ],
      providers: [InvoiceResolvers],
    })
    class GraphqlModule {}
    api = await listenApp(GraphqlModule, adapter);
  }, 30_000);
  afterAll(async () => {
    await api?.app.close();
  });

  const graphql = (query: string | object, token?: string) => postGraphql(api.url, query, token);

  const bob = () => issuer.sign({ sub: 'bob', roles: ['customer'] });

  it('serves the record the arguments name when the policy allows it, with one decision record', async () => {
    await api.app.get(AuditService).flush();
    events.length = 0;
    const { status, body } = await graphql('{ invoice(id: "inv-1") { id amount } }', bob());
    expect(status).toBe(200);
    expect(body).toEqual({ data: { invoice: { id: 'inv-1', amount: 100 } } });
    await api.app.get(AuditService).flush();
    expect(events).toEqual([
      expect.objectContaining({
        decision: 'allow',
        principal: expect.objectContaining({ id: 'bob' }),
        authorization: { action: 'read', subject: 'Invoice', subjectId: 'inv-1' },
      }),
    ]);
  });

  it('refuses a field on its own (FORBIDDEN with the library code) and serves the others', async () => {
    const { status, body } = await graphql(
      '{ mine: invoice(id: "inv-1") { id } other: invoice(id: "inv-2") { id } }',
      bob(),
    );
    expect(body.data).toEqual({ mine: { id: 'inv-1' }, other: null });
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ['other'],
        extensions: expect.objectContaining({ code: 'FORBIDDEN', zt: 'ZT_ACCESS_DENIED' }),
      }),
    ]);
    expect(JSON.stringify(body)).not.toMatch(/stacktrace|originalError/);
    expect(status).toBe(200);
  });

  it('hands the verified principal to the resolver (@CurrentPrincipal)', async () => {
    expect((await graphql('{ me }', bob())).body).toEqual({ data: { me: 'bob' } });
  });

  it('refuses a mutation the principal may not make, before it runs', async () => {
    deleted.length = 0;
    const { body } = await graphql('mutation { deleteInvoice(id: "inv-1") }', bob());
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      zt: 'ZT_ACCESS_DENIED',
    });
    expect(deleted).toEqual([]);
    const admin = issuer.sign({ sub: 'carol', roles: ['admin'] });
    expect((await graphql('mutation { deleteInvoice(id: "inv-2") }', admin)).body).toEqual({
      data: { deleteInvoice: true },
    });
    expect(deleted).toEqual(['inv-2']);
  });

  it('answers an operation without a valid token with UNAUTHENTICATED, HTTP 401 and the challenge', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const revoked = issuer.sign({ sub: 'bob', jti: `revoked-${adapter}` });
    await api.app.get(RevocationService).revokeToken(`revoked-${adapter}`);
    const [header, payload] = bob().split('.');
    for (const token of [
      undefined,
      'not-a-token',
      `${header}.${payload}.forged-signature`,
      issuer.sign({ sub: 'bob', aud: 'other' }),
      issuer.sign({ sub: 'bob', iat: past - 60, exp: past }),
      revoked,
    ]) {
      const { status, body, challenge } = await graphql('{ me }', token);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(body.errors?.[0]?.extensions.zt).toMatch(/^ZT_TOKEN_/);
      expect(status).toBe(401);
      expect(challenge).toMatch(/^Bearer/);
    }
  });

  it('returns 404-like NOT_FOUND for a record that does not exist, after the type-level check', async () => {
    const { body } = await graphql('{ invoice(id: "inv-9") { id } }', bob());
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'NOT_FOUND',
      zt: 'ZT_RESOURCE_NOT_FOUND',
    });
  });

  it('scopes a list field as GET /invoices is scoped: bob gets his invoices, an admin all', async () => {
    const mine = await graphql('{ invoices { id } }', bob());
    expect(mine.body).toEqual({ data: { invoices: [{ id: 'inv-1' }, { id: 'inv-3' }] } });
    const admin = issuer.sign({ sub: 'carol', roles: ['admin'] });
    const all = await graphql('{ invoices { id } }', admin);
    expect(all.body.data?.invoices).toHaveLength(3);
    const nobody = await graphql('{ invoices { id } }', issuer.sign({ sub: 'eve', roles: [] }));
    expect(nobody.body.data).toEqual({ invoices: [] });
  });

  it('decides a field resolver with its own @Can on each parent: the field refused, the rest served', async () => {
    await api.app.get(AuditService).flush();
    events.length = 0;
    const { body } = await graphql('{ invoices { id notes } }', bob());
    expect(body.data).toEqual({
      invoices: [
        { id: 'inv-1', notes: null },
        { id: 'inv-3', notes: 'bob again' },
      ],
    });
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ['invoices', 0, 'notes'],
        extensions: expect.objectContaining({ code: 'FORBIDDEN', zt: 'ZT_FIELDS_DENIED' }),
      }),
    ]);
    await api.app.get(AuditService).flush();
    // The list's decision, then one per parent, decided on that parent.
    expect(events.map((e) => [e.decision, e.authorization])).toEqual([
      ['allow', { action: 'read', subject: 'Invoice' }],
      ['deny', { action: 'read', subject: 'Invoice', subjectId: 'inv-1', fields: ['notes'] }],
      ['allow', { action: 'read', subject: 'Invoice', subjectId: 'inv-3' }],
    ]);
    const admin = issuer.sign({ sub: 'carol', roles: ['admin'] });
    const served = await graphql('{ invoice(id: "inv-2") { notes } }', admin);
    expect(served.body).toEqual({ data: { invoice: { notes: 'dave disputes it' } } });
  });

  it('serves a field resolver without a policy under its root field: its principal and record', async () => {
    const { body } = await graphql(
      '{ a: invoice(id: "inv-1") { viewer loadedBy } b: invoice(id: "inv-3") { loadedBy } }',
      bob(),
    );
    expect(body).toEqual({
      data: { a: { viewer: 'bob', loadedBy: 'inv-1' }, b: { loadedBy: 'inv-3' } },
    });
  });

  it('decides each alias of a mutation on its own record (serial fields do not share a record)', async () => {
    renamed.length = 0;
    const { body } = await graphql(
      'mutation { a: renameInvoice(id: "inv-1", customer: "x") b: renameInvoice(id: "inv-2", customer: "x") c: renameInvoice(id: "inv-3", customer: "x") }',
      bob(),
    );
    expect(body.data).toEqual({ a: 'inv-1', b: null, c: 'inv-3' });
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ['b'],
        extensions: expect.objectContaining({ code: 'FORBIDDEN', zt: 'ZT_ACCESS_DENIED' }),
      }),
    ]);
    expect(renamed).toEqual(['inv-1', 'inv-3']);
  });

  it('refuses every alias of a refused field, each with its own decision record', async () => {
    await api.app.get(AuditService).flush();
    events.length = 0;
    const aliases = Array.from({ length: 20 }, (_, i) => `f${i}: invoice(id: "inv-2") { id }`);
    const { body } = await graphql(`{ ${aliases.join(' ')} }`, bob());
    expect(Object.values(body.data ?? {})).toEqual(Array.from({ length: 20 }, () => null));
    expect(body.errors).toHaveLength(20);
    await api.app.get(AuditService).flush();
    expect(events.filter((e) => e.decision === 'deny')).toHaveLength(20);
  });

  it('refuses a batch of operations (a mutation hidden in an array body): Apollo batching is off', async () => {
    deleted.length = 0;
    const { status, body } = await graphql(
      [{ query: '{ me }' }, { query: 'mutation { deleteInvoice(id: "inv-1") }' }],
      bob(),
    );
    expect(status).toBe(400);
    expect(JSON.stringify(body)).toMatch(/batching/i);
    expect(deleted).toEqual([]);
  });
});

describe('GraphQL root fields at boot', () => {
  it('refuses to boot with a query that has no access policy', async () => {
    @Resolver('Invoice')
    class Unprotected {
      @Query('me')
      me(): string {
        return 'anyone';
      }
    }
    @Module({
      imports: [
        ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience }),
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs }),
      ],
      providers: [Unprotected],
    })
    class BadModule {}
    await expect(listenApp(BadModule)).rejects.toThrow(/Unprotected\.me/);
  });

  /** A module with one field resolver decorated by `decorate`, guards on field resolvers or not. */
  function fieldModule(decorate: MethodDecorator, fieldResolverEnhancers: 'guards'[] = []) {
    @Resolver('Invoice')
    class Fields {
      @Query('me')
      @Authenticated()
      me(): string {
        return 'me';
      }

      @ResolveField('amount')
      @decorate
      amount(): number {
        return 0;
      }
    }
    @Module({
      imports: [
        ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience }),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          typeDefs,
          fieldResolverEnhancers,
        }),
      ],
      providers: [Fields],
    })
    class FieldModule {}
    return FieldModule;
  }

  it('refuses to boot with a @Can on a field resolver that no guard would run', async () => {
    const error = await listenApp(fieldModule(Can('read', 'Invoice'))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ZT_ROUTE_POLICY_INVALID' });
    expect((error as Error).message).toMatch(/Fields\.amount .*fieldResolverEnhancers/);
  });

  it("refuses to boot with a @RiskPolicy on a field resolver (risk is the root field's)", async () => {
    const error = await listenApp(fieldModule(RiskPolicy({ maxScore: 10 }), ['guards'])).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ZT_ROUTE_POLICY_INVALID' });
    expect((error as Error).message).toMatch(/Fields\.amount .*@RiskPolicy/);
  });

  it('boots with a @Can on a field resolver when guards run on field resolvers', async () => {
    const { app } = await listenApp(fieldModule(Can('read', 'Invoice'), ['guards']));
    expect(app.getHttpServer().listening).toBe(true);
    await app.close();
  });
});

describe.each(ADAPTERS)('GraphQL over %s with refuseWholeOperation', (adapter) => {
  let api: ListeningApp;

  beforeAll(async () => {
    @Module({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: issuer.url,
          audience: issuer.audience,
          abilities: {
            user: (principal, _env, { can }) => {
              can('read', 'Invoice', { customer: principal.id });
            },
          },
        }),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          typeDefs,
          path: '/graphql',
          fieldResolverEnhancers: ['guards'],
          plugins: [refuseWholeOperation()],
        }),
      ],
      providers: [InvoiceResolvers],
    })
    class WholeOperationModule {}
    api = await listenApp(WholeOperationModule, adapter);
  }, 30_000);
  afterAll(async () => {
    await api?.app.close();
  });

  const graphql = async (query: string) =>
    (await postGraphql(api.url, query, issuer.sign({ sub: 'bob', roles: ['customer'] }))).body;

  it('serves nothing of an operation one of whose fields is refused, and all of one that is allowed', async () => {
    const refused = await graphql(
      '{ mine: invoice(id: "inv-1") { id } other: invoice(id: "inv-2") { id } }',
    );
    expect(refused.data).toBeNull();
    expect(refused.errors).toEqual([
      expect.objectContaining({
        path: ['other'],
        extensions: expect.objectContaining({ code: 'FORBIDDEN', zt: 'ZT_ACCESS_DENIED' }),
      }),
    ]);
    expect(await graphql('{ mine: invoice(id: "inv-1") { id } }')).toEqual({
      data: { mine: { id: 'inv-1' } },
    });
  });
});
