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
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { guard } from '@ucast/mongo2js';
import {
  AuthorizedResource,
  Can,
  CurrentPrincipal,
  PolicyService,
  ZeroTrustModule,
  type Principal,
} from 'nestjs-zero-trust';
import { AuditService, type DecisionEvent } from 'nestjs-zero-trust/audit';
import { parentOf } from 'nestjs-zero-trust/graphql';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenApp, type ListeningApp } from './support/nest-app.js';

/*
 * GraphQL on Mercurius (@nestjs/mercurius, Fastify only) through the same pipeline as Apollo:
 * the token of the operation's request, @Can on root fields and field resolvers, lists scoped,
 * aliases decided on their own records, refusals with extensions.code and the library's code.
 */
const INVOICES = [
  { id: 'inv-1', customer: 'bob', amount: 100, notes: 'bob pays late' },
  { id: 'inv-2', customer: 'dave', amount: 250, notes: 'dave disputes it' },
  { id: 'inv-3', customer: 'bob', amount: 300, notes: 'bob again' },
];
const renamed: string[] = [];

// Mercurius loads graphql with require: its rule must come from that copy, not the ESM one.
const { NoSchemaIntrospectionCustomRule } = createRequire(import.meta.url)(
  'graphql',
) as typeof import('graphql');

const typeDefs = /* GraphQL */ `
  type Invoice {
    id: ID!
    customer: String!
    amount: Int!
    notes: String
    viewer: String
  }
  type Query {
    invoice(id: ID!): Invoice
    invoices: [Invoice!]!
  }
  type Mutation {
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

  @Query('invoices')
  @Can('read', 'Invoice')
  async invoices(@Info() info: object) {
    const condition = await this.policies.conditionFor(info, 'read', 'Invoice');
    return condition === null ? [] : INVOICES.filter(guard(condition));
  }

  @Mutation('renameInvoice')
  @Can('update', 'Invoice', { resolve: byId })
  renameInvoice(@AuthorizedResource() invoice: { id: string }): string {
    renamed.push(invoice.id);
    return invoice.id;
  }

  @ResolveField('notes')
  @Can('read', 'Invoice', { resolve: parentOf, fields: () => ['notes'] })
  notes(@Parent() invoice: { notes: string }): string {
    return invoice.notes;
  }

  @ResolveField('viewer')
  viewer(@CurrentPrincipal() principal: Principal | undefined): string | undefined {
    return principal?.id;
  }
}

describe('GraphQL over fastify (Mercurius)', () => {
  const events: DecisionEvent[] = [];
  let issuer: TestIssuer;
  let api: ListeningApp;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    @Module({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: issuer.url,
          audience: issuer.audience,
          abilities: {
            user: (principal, _env, { can }) => {
              can('read', 'Invoice', ['id', 'customer', 'amount'], { customer: principal.id });
              can('read', 'Invoice', ['notes'], { customer: principal.id, amount: { $gt: 200 } });
              can('update', 'Invoice', { customer: principal.id });
            },
          },
          audit: { sink: { write: (event) => void events.push(event) } },
        }),
        GraphQLModule.forRoot<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          typeDefs,
          path: '/graphql',
          fieldResolverEnhancers: ['guards'],
          // Mercurius has no introspection switch: graphql-js's rule refuses it at validation.
          validationRules: [NoSchemaIntrospectionCustomRule],
        }),
      ],
      providers: [InvoiceResolvers],
    })
    class MercuriusModule {}
    api = await listenApp(MercuriusModule, 'fastify');
  }, 30_000);
  afterAll(async () => {
    await api?.app.close();
    await issuer?.close();
  });

  async function graphql(query: string | object, token?: string) {
    const response = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(typeof query === 'string' ? { query } : query),
    });
    const body = (await response.json()) as {
      data?: Record<string, unknown> | null;
      errors?: {
        message: string;
        path?: (string | number)[];
        extensions?: Record<string, unknown>;
      }[];
    };
    return { status: response.status, body, challenge: response.headers.get('www-authenticate') };
  }
  const bob = () => issuer.sign({ sub: 'bob', roles: ['customer'] });

  it('refuses a field on its own with the codes, serves the others and the fields below them', async () => {
    const { status, body } = await graphql(
      '{ a: invoice(id: "inv-1") { id viewer } b: invoice(id: "inv-2") { id } }',
      bob(),
    );
    expect(status).toBe(200);
    expect(body.data).toEqual({ a: { id: 'inv-1', viewer: 'bob' }, b: null });
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ['b'],
        extensions: { code: 'FORBIDDEN', zt: 'ZT_ACCESS_DENIED' },
      }),
    ]);
  });

  it('scopes a list and decides a field resolver with its own @Can on each parent', async () => {
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
        extensions: { code: 'FORBIDDEN', zt: 'ZT_FIELDS_DENIED' },
      }),
    ]);
    await api.app.get(AuditService).flush();
    expect(events.map((e) => [e.decision, e.authorization?.subjectId])).toEqual([
      ['allow', undefined],
      ['deny', 'inv-1'],
      ['allow', 'inv-3'],
    ]);
  });

  it('decides each alias of a mutation on its own record', async () => {
    renamed.length = 0;
    const { body } = await graphql(
      'mutation { a: renameInvoice(id: "inv-1", customer: "x") b: renameInvoice(id: "inv-2", customer: "x") c: renameInvoice(id: "inv-3", customer: "x") }',
      bob(),
    );
    expect(body.data).toEqual({ a: 'inv-1', b: null, c: 'inv-3' });
    expect(renamed).toEqual(['inv-1', 'inv-3']);
  });

  it('answers an operation without a valid token with UNAUTHENTICATED and the challenge', async () => {
    for (const token of [undefined, 'not-a-token', issuer.sign({ sub: 'bob', aud: 'other' })]) {
      // A lone refused field and no data: HTTP 401, as on REST.
      const lone = await graphql('{ invoices { id } }', token);
      expect(lone.status).toBe(401);
      expect(lone.challenge).toMatch(/^Bearer/);
      expect(lone.body.errors?.[0]?.extensions).toEqual({
        code: 'UNAUTHENTICATED',
        zt: expect.stringMatching(/^ZT_TOKEN_/),
      });
      // Fields that may be null: Mercurius answers 200 with the data, the challenge still set.
      const nullable = await graphql('{ invoice(id: "inv-1") { id } }', token);
      expect(nullable.status).toBe(200);
      expect(nullable.challenge).toMatch(/^Bearer/);
      expect(nullable.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('refuses batches (off by default) and introspection (with the validation rule)', async () => {
    const batch = await graphql([{ query: '{ invoices { id } }' }], bob());
    expect(batch.status).toBe(400);
    const introspection = await graphql('{ __schema { types { name } } }', bob());
    // A validation error: Mercurius answers 200 with no data (Apollo: 400).
    expect(introspection.body.data).toBeNull();
    expect(introspection.body.errors?.[0]?.message).toMatch(/introspection has been disabled/);
    expect(JSON.stringify(introspection.body)).not.toContain('Invoice');
  });

  it('refuses to boot with a @Can on a field resolver that no guard would run', async () => {
    @Resolver('Invoice')
    class Fields {
      @Query('invoices')
      @Can('read', 'Invoice')
      invoices(): [] {
        return [];
      }

      @ResolveField('notes')
      @Can('read', 'Invoice', { resolve: parentOf })
      notes(): string {
        return '';
      }
    }
    @Module({
      imports: [
        ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience }),
        GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, typeDefs }),
      ],
      providers: [Fields],
    })
    class Unguarded {}
    await expect(listenApp(Unguarded, 'fastify')).rejects.toMatchObject({
      code: 'ZT_ROUTE_POLICY_INVALID',
    });
  });
});
