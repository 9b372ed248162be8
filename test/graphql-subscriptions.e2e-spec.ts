import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Args, GraphQLModule, Query, Resolver, Subscription } from '@nestjs/graphql';
import { EventEmitter, on } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  Authenticated,
  Can,
  CurrentPrincipal,
  RevocationService,
  ZeroTrustModule,
  type Principal,
} from 'nestjs-zero-trust';
import { AuditService, type DecisionEvent } from 'nestjs-zero-trust/audit';
import { zeroTrustGraphqlWs } from 'nestjs-zero-trust/graphql-ws';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ADAPTERS } from './support/demo-api.js';
import { listenApp, type ListeningApp } from './support/nest-app.js';

/*
 * GraphQL subscriptions over graphql-ws (Apollo, on Express and on Fastify): the token of
 * `connection_init` verified there (4401 without one, 4403 for a refused one), each
 * subscription's root field decided with @Can like a query, and the connection closed (4403) at
 * its token's exp and when it is revoked, without waiting for anything from the client.
 */
const INVOICES = new Map([
  ['inv-1', { id: 'inv-1', customer: 'bob', amount: 100 }],
  ['inv-2', { id: 'inv-2', customer: 'dave', amount: 250 }],
]);
const bus = new EventEmitter();

const typeDefs = /* GraphQL */ `
  type Invoice {
    id: ID!
    customer: String!
    amount: Int!
  }
  type Query {
    me: String
  }
  type Subscription {
    invoiceUpdated(id: ID!): Invoice
  }
`;

/** The invoice now, then each of its updates. */
async function* updatesOf(id: string) {
  yield { invoiceUpdated: INVOICES.get(id) };
  for await (const [invoice] of on(bus, 'update') as AsyncIterable<[{ id: string }]>)
    if (invoice.id === id) yield { invoiceUpdated: invoice };
}

@Resolver()
class InvoiceSubscriptions {
  @Query('me')
  @Authenticated()
  me(@CurrentPrincipal() principal: Principal | undefined): string | undefined {
    return principal?.id;
  }

  @Subscription('invoiceUpdated')
  @Can('read', 'Invoice', { resolve: ({ params }) => INVOICES.get(params.id ?? '') })
  invoiceUpdated(@Args('id') id: string) {
    return updatesOf(id);
  }
}

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
});

const now = () => Math.floor(Date.now() / 1000);

interface Frame {
  type: string;
  id?: string;
  payload?: unknown;
}

/** A graphql-ws socket (`graphql-transport-ws`) that sent `connection_init` with `payload`. */
async function connect(
  url: string,
  payload?: Record<string, unknown>,
  search = '',
  headers: Record<string, string> = {},
) {
  const socket = new WebSocket(
    url.replace(/^http/, 'ws') + '/graphql' + search,
    'graphql-transport-ws',
    { headers },
  );
  const frames: Frame[] = [];
  const waiting: ((frame: Frame) => void)[] = [];
  socket.on('message', (raw: Buffer) => {
    const frame = JSON.parse(raw.toString()) as Frame;
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  const closing = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code: number, reason: Buffer) => resolve({ code, reason: String(reason) })),
  );
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload }));
  return {
    closing,
    next: (): Promise<Frame | { closed: number; reason: string }> =>
      frames.length > 0
        ? Promise.resolve(frames.shift() as Frame)
        : Promise.race([
            new Promise<Frame>((resolve) => waiting.push(resolve)),
            closing.then(({ code, reason }) => ({ closed: code, reason })),
          ]),
    subscribe: (id: string, query: string) =>
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } })),
    close: () => socket.close(),
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A token whose payload was changed after it was signed (another subject). */
function forged(token: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as object;
  const changed = Buffer.from(JSON.stringify({ ...claims, sub: 'dave' })).toString('base64url');
  return `${header}.${changed}.${signature}`;
}

describe.each(ADAPTERS)('GraphQL subscriptions over graphql-ws on %s (Apollo)', (adapter) => {
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
            },
          },
          audit: { sink: { write: (event) => void events.push(event) } },
        }),
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          inject: [ModuleRef],
          useFactory: (moduleRef: ModuleRef) => ({
            typeDefs,
            path: '/graphql',
            includeStacktraceInErrorResponses: false,
            subscriptions: { 'graphql-ws': zeroTrustGraphqlWs(moduleRef) },
          }),
        }),
      ],
      providers: [InvoiceSubscriptions],
    })
    class SubscriptionsModule {}
    api = await listenApp(SubscriptionsModule, adapter);
  }, 30_000);
  afterAll(async () => {
    await api?.app.close();
  });

  it('acknowledges a connection with a valid token, serves a subscription the policy allows, and records the decision', async () => {
    const connection = await connect(api.url, bearer(issuer.sign({ sub: 'bob' })));
    expect(await connection.next()).toEqual({ type: 'connection_ack' });
    connection.subscribe('1', '{ me }');
    expect(await connection.next()).toEqual({
      id: '1',
      type: 'next',
      payload: { data: { me: 'bob' } },
    });
    expect(await connection.next()).toEqual({ id: '1', type: 'complete' });
    connection.subscribe('2', 'subscription { invoiceUpdated(id: "inv-1") { id amount } }');
    expect(await connection.next()).toEqual({
      id: '2',
      type: 'next',
      payload: { data: { invoiceUpdated: { id: 'inv-1', amount: 100 } } },
    });
    bus.emit('update', { id: 'inv-1', customer: 'bob', amount: 120 });
    expect(await connection.next()).toEqual({
      id: '2',
      type: 'next',
      payload: { data: { invoiceUpdated: { id: 'inv-1', amount: 120 } } },
    });
    await api.app.get(AuditService).flush();
    expect(events).toContainEqual(
      expect.objectContaining({
        decision: 'allow',
        request: expect.objectContaining({ method: 'SUBSCRIBE', route: '/graphql' }),
        principal: expect.objectContaining({ id: 'bob' }),
      }),
    );
    connection.close();
  });

  it('refuses a subscription the policy does not allow with a FORBIDDEN error, the connection kept', async () => {
    const connection = await connect(api.url, bearer(issuer.sign({ sub: 'bob' })));
    expect(await connection.next()).toEqual({ type: 'connection_ack' });
    connection.subscribe('1', 'subscription { invoiceUpdated(id: "inv-2") { id amount } }');
    const refused = await connection.next();
    expect(JSON.stringify(refused)).not.toContain('250');
    // A `next` with the error, then `complete`: the subscription ends, the connection stays.
    expect(refused).toMatchObject({
      id: '1',
      type: 'next',
      payload: expect.objectContaining({
        errors: [
          expect.objectContaining({
            message: 'Access denied',
            extensions: expect.objectContaining({ code: 'FORBIDDEN', zt: 'ZT_ACCESS_DENIED' }),
          }),
        ],
      }),
    });
    connection.subscribe('2', '{ me }');
    let answer = await connection.next();
    while ('type' in answer && answer.id !== '2') answer = await connection.next();
    expect(answer).toEqual({ id: '2', type: 'next', payload: { data: { me: 'bob' } } });
    connection.close();
  });

  it('closes a connection_init without a token with 4401, and one with a refused token with 4403', async () => {
    const cases: [Record<string, unknown> | undefined, number, string][] = [
      [undefined, 4401, 'ZT_TOKEN_MISSING'],
      [{}, 4401, 'ZT_TOKEN_MISSING'],
      [bearer('garbage'), 4403, 'ZT_TOKEN_MALFORMED'],
      [bearer(forged(issuer.sign({ sub: 'bob' }))), 4403, 'ZT_TOKEN_SIGNATURE_INVALID'],
      [bearer(issuer.sign({ sub: 'bob', aud: 'other' })), 4403, 'ZT_TOKEN_AUDIENCE_INVALID'],
      [
        bearer(issuer.sign({ sub: 'bob', iat: now() - 600, exp: now() - 300 })),
        4403,
        'ZT_TOKEN_EXPIRED',
      ],
    ];
    for (const [payload, code, reason] of cases) {
      const connection = await connect(api.url, payload);
      expect(await connection.next()).toEqual({ closed: code, reason });
    }
  });

  it("takes the upgrade request's Authorization header from a client that sends no payload, and refuses it twice", async () => {
    const token = issuer.sign({ sub: 'bob' });
    const connection = await connect(api.url, undefined, '', bearer(token));
    expect(await connection.next()).toEqual({ type: 'connection_ack' });
    connection.subscribe('1', '{ me }');
    expect(await connection.next()).toEqual({
      id: '1',
      type: 'next',
      payload: { data: { me: 'bob' } },
    });
    connection.close();
    const twice = await connect(api.url, bearer(token), '', bearer(token));
    expect(await twice.next()).toEqual({ closed: 4403, reason: 'ZT_AMBIGUOUS_CREDENTIALS' });
  });

  it('refuses a token in the URL, even a valid one', async () => {
    const token = issuer.sign({ sub: 'bob' });
    const connection = await connect(api.url, undefined, `?access_token=${token}`);
    expect(await connection.next()).toEqual({
      closed: 4403,
      reason: 'ZT_TOKEN_METHOD_UNSUPPORTED',
    });
  });

  it("closes the connection at its token's exp, its subscription active and idle", async () => {
    const sub = `user-${randomUUID()}`;
    INVOICES.set(sub, { id: sub, customer: sub, amount: 1 });
    const connection = await connect(api.url, bearer(issuer.sign({ sub, exp: now() + 2 })));
    expect(await connection.next()).toEqual({ type: 'connection_ack' });
    connection.subscribe('1', `subscription { invoiceUpdated(id: "${sub}") { id } }`);
    expect(await connection.next()).toMatchObject({ id: '1', type: 'next' });
    expect(await connection.next()).toEqual({ closed: 4403, reason: 'ZT_TOKEN_EXPIRED' });
  });

  it('closes the connection at once when its principal is revoked', async () => {
    const sub = `user-${randomUUID()}`;
    INVOICES.set(sub, { id: sub, customer: sub, amount: 1 });
    const connection = await connect(api.url, bearer(issuer.sign({ sub, iat: now() - 5 })));
    expect(await connection.next()).toEqual({ type: 'connection_ack' });
    connection.subscribe('1', `subscription { invoiceUpdated(id: "${sub}") { id } }`);
    expect(await connection.next()).toMatchObject({ id: '1', type: 'next' });
    await api.app.get(RevocationService).revokeSubject(sub);
    expect(await connection.next()).toEqual({ closed: 4403, reason: 'ZT_TOKEN_REVOKED' });
    // Closed for good: a new connection with the revoked token is refused at connection_init.
    const again = await connect(api.url, bearer(issuer.sign({ sub, iat: now() - 5 })));
    expect(await again.next()).toEqual({ closed: 4403, reason: 'ZT_TOKEN_REVOKED' });
  });
});

describe('GraphQL subscriptions without zeroTrustGraphqlWs', () => {
  it('refuses every operation over graphql-ws (ZT_UNSUPPORTED_CONTEXT): nothing authenticated it', async () => {
    @Module({
      imports: [
        ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience }),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          typeDefs,
          path: '/graphql',
          includeStacktraceInErrorResponses: false,
          subscriptions: { 'graphql-ws': true },
        }),
      ],
      providers: [InvoiceSubscriptions],
    })
    class UnwiredModule {}
    const api = await listenApp(UnwiredModule, 'express');
    try {
      const connection = await connect(api.url, bearer(issuer.sign({ sub: 'bob' })));
      expect(await connection.next()).toEqual({ type: 'connection_ack' });
      connection.subscribe('1', 'subscription { invoiceUpdated(id: "inv-1") { id } }');
      const refused = await connection.next();
      expect(JSON.stringify(refused)).toContain('ZT_UNSUPPORTED_CONTEXT');
      expect(JSON.stringify(refused)).not.toContain('inv-1');
      connection.close();
    } finally {
      await api.app.close();
    }
  });
});
