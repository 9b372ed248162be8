import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { Args, GraphQLModule, Mutation, Query, Resolver } from '@nestjs/graphql';
import {
  Authenticated,
  Can,
  CurrentPrincipal,
  ZeroTrustModule,
  type Principal,
} from 'nestjs-zero-trust';
import { AuditService, type DecisionEvent } from 'nestjs-zero-trust/audit';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from './support/demo-api.js';
import { listenApp, type ListeningApp } from './support/nest-app.js';

/*
 * GraphQL (Apollo, on Express and on Fastify) through the same pipeline as REST: the token of the
 * operation's HTTP request, @Can on queries and mutations with resolvers of record reading the
 * field's arguments, refusals as GraphQL errors with a code, the other fields still served.
 */
const INVOICES = [
  { id: 'inv-1', customer: 'bob', amount: 100 },
  { id: 'inv-2', customer: 'dave', amount: 250 },
];
const deleted: string[] = [];

const typeDefs = /* GraphQL */ `
  type Invoice {
    id: ID!
    customer: String!
    amount: Int!
  }
  type Query {
    invoice(id: ID!): Invoice
    me: String
  }
  type Mutation {
    deleteInvoice(id: ID!): Boolean
  }
`;

const byId = ({ params }: { params: Readonly<Record<string, string | undefined>> }) =>
  INVOICES.find((invoice) => invoice.id === params.id);

@Resolver('Invoice')
class InvoiceResolvers {
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

  @Mutation('deleteInvoice')
  @Can('delete', 'Invoice', { resolve: byId })
  deleteInvoice(@Args('id') id: string): boolean {
    deleted.push(id);
    return true;
  }
}

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
});

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
              can('read', 'Invoice', { customer: principal.id });
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

  async function graphql(query: string, token?: string) {
    const response = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string; path?: string[]; extensions: Record<string, unknown> }[];
    };
    return { status: response.status, body, challenge: response.headers.get('www-authenticate') };
  }

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
    for (const token of [undefined, 'not-a-token', issuer.sign({ sub: 'bob', aud: 'other' })]) {
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
});
