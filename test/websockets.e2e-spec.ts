import { Module } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import {
  Authenticated,
  Can,
  CurrentPrincipal,
  RevocationService,
  ZeroTrustModule,
  type Principal,
} from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { ZeroTrustWsAdapter } from 'nestjs-zero-trust/websockets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ADAPTERS } from './support/demo-api.js';
import { listenApp, type ListeningApp } from './support/nest-app.js';

/*
 * WebSocket gateways (the ws adapter) through the pipeline: the token of the handshake's
 * Authorization header, @Can on each @SubscribeMessage with resolvers reading the message's data,
 * refusals as `exception` events with a code, and the socket closed (4401) once its token is
 * expired or revoked. On Express and on Fastify.
 */
const INVOICES = [
  { id: 'inv-1', customer: 'bob' },
  { id: 'inv-2', customer: 'dave' },
];

@WebSocketGateway({ path: '/ws' })
class InvoiceGateway {
  @SubscribeMessage('whoami')
  @Authenticated()
  whoami(@CurrentPrincipal() principal: Principal | undefined) {
    return { event: 'whoami', data: principal?.id };
  }

  @SubscribeMessage('invoice')
  @Can('read', 'Invoice', {
    resolve: ({ params }) => INVOICES.find((invoice) => invoice.id === params.id),
  })
  invoice(@MessageBody() data: { id: string }) {
    return { event: 'invoice', data: INVOICES.find((invoice) => invoice.id === data.id) };
  }
}

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
});

/** A socket and the frames it received; `next()` waits for the next one. */
async function connect(url: string, token?: string) {
  const socket = new WebSocket(url.replace(/^http/, 'ws') + '/ws', {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  const frames: unknown[] = [];
  const waiting: ((frame: unknown) => void)[] = [];
  let closed: { code: number } | undefined;
  socket.on('message', (raw: Buffer) => {
    const frame: unknown = JSON.parse(raw.toString());
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  const closing = new Promise<{ code: number }>((resolve) =>
    socket.on('close', (code: number) => resolve((closed = { code }))),
  );
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return {
    send: (event: string, data: unknown) => socket.send(JSON.stringify({ event, data })),
    next: () =>
      frames.length > 0
        ? Promise.resolve(frames.shift())
        : Promise.race([
            new Promise<unknown>((resolve) => waiting.push(resolve)),
            closing.then(({ code }) => ({ closedWithoutFrame: code })),
          ]),
    closing,
    isClosed: () => closed !== undefined,
    close: () => socket.close(),
  };
}

describe.each(ADAPTERS)('WebSocket gateway over %s (ws)', (adapter) => {
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
      ],
      providers: [InvoiceGateway],
    })
    class GatewayModule {}
    api = await listenApp(GatewayModule, adapter, false, (app) =>
      app.useWebSocketAdapter(new ZeroTrustWsAdapter(app)),
    );
  }, 30_000);
  afterAll(async () => {
    await api?.app.close();
  });

  it('answers a message the policy allows, and refuses one it does not with the socket kept', async () => {
    const socket = await connect(api.url, issuer.sign({ sub: 'bob' }));
    socket.send('invoice', { id: 'inv-1' });
    expect(await socket.next()).toEqual({
      event: 'invoice',
      data: { id: 'inv-1', customer: 'bob' },
    });
    socket.send('invoice', { id: 'inv-2' });
    expect(await socket.next()).toMatchObject({
      event: 'exception',
      data: { status: 'error', code: 'ZT_ACCESS_DENIED', statusCode: 403 },
    });
    expect(socket.isClosed()).toBe(false);
    socket.send('invoice', { id: 'inv-1' });
    expect(await socket.next()).toMatchObject({ event: 'invoice' });
    socket.close();
  });

  it('refuses a socket without a valid token, and closes it with 4401', async () => {
    for (const token of [undefined, 'garbage', issuer.sign({ sub: 'bob', aud: 'other' })]) {
      const socket = await connect(api.url, token);
      socket.send('invoice', { id: 'inv-1' });
      expect(await socket.next()).toMatchObject({
        event: 'exception',
        data: { statusCode: 401, code: expect.stringMatching(/^ZT_TOKEN_/) },
      });
      expect((await socket.closing).code).toBe(4401);
    }
  });

  it('closes the socket at the first message after its token was revoked', async () => {
    const sub = `user-${randomUUID()}`;
    INVOICES.push({ id: sub, customer: sub });
    const socket = await connect(
      api.url,
      issuer.sign({ sub, iat: Math.floor(Date.now() / 1000) - 5 }),
    );
    socket.send('invoice', { id: sub });
    expect(await socket.next()).toMatchObject({ event: 'invoice' });
    await api.app.get(RevocationService).revokeSubject(sub);
    socket.send('invoice', { id: sub });
    expect(await socket.next()).toMatchObject({ data: { code: 'ZT_TOKEN_REVOKED' } });
    expect((await socket.closing).code).toBe(4401);
  });
});

describe('WebSocket handlers at boot', () => {
  it('refuses to boot with a @SubscribeMessage that has no access policy', async () => {
    @WebSocketGateway({ path: '/open' })
    class OpenGateway {
      @SubscribeMessage('anything')
      anything(): string {
        return 'served to anyone';
      }
    }
    @Module({
      imports: [ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience })],
      providers: [OpenGateway],
    })
    class BadModule {}
    await expect(
      listenApp(BadModule, 'express', false, (app) =>
        app.useWebSocketAdapter(new ZeroTrustWsAdapter(app)),
      ),
    ).rejects.toThrow(/OpenGateway\.anything/);
  });
});
