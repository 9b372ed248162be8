import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import {
  Authenticated,
  Can,
  CurrentPrincipal,
  RevocationService,
  RevocationStore,
  ZeroTrustModule,
  type Principal,
} from 'nestjs-zero-trust';
import { AuditService, type DecisionEvent } from 'nestjs-zero-trust/audit';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { ZeroTrustWsAdapter } from 'nestjs-zero-trust/websockets';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { ADAPTERS } from './support/demo-api.js';
import { listenApp, type ListeningApp } from './support/nest-app.js';
import { randomKeyPrefix, redisReady, REDIS_URL } from './support/redis.js';
import { ConnectionWatcher } from '../libs/zero-trust/src/transports/connection-watcher.js';

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
async function connect(url: string, token?: string, query = '') {
  const socket = new WebSocket(url.replace(/^http/, 'ws') + '/ws' + query, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  const frames: unknown[] = [];
  const waiting: ((frame: unknown) => void)[] = [];
  let closed: { code: number; reason: string } | undefined;
  socket.on('message', (raw: Buffer) => {
    const frame: unknown = JSON.parse(raw.toString());
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  const closing = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code: number, reason: Buffer) =>
      resolve((closed = { code, reason: reason.toString() })),
    ),
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

/** A token whose payload was changed after it was signed (another subject). */
function forged(token: string): string {
  const [header, , signature] = token.split('.');
  const payload = { ...claimsOf(token), sub: 'dave' };
  return `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
}

const claimsOf = (token: string): { jti: string; exp: number; sub: string } =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    jti: string;
    exp: number;
    sub: string;
  };

/** A subject of its own (revocations of it touch no other test), with an invoice it may read. */
function freshUser(): string {
  const sub = `user-${randomUUID()}`;
  INVOICES.push({ id: sub, customer: sub });
  return sub;
}

const now = () => Math.floor(Date.now() / 1000);

describe.each(ADAPTERS)('WebSocket gateway over %s (ws)', (adapter) => {
  let api: ListeningApp;
  const events: DecisionEvent[] = [];

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
          // A short wait for the first message, a re-check every second: no test waits long.
          connections: { authenticationTimeout: 0.5, recheckInterval: 1 },
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

  it('closes an idle socket at once when its principal is revoked here', async () => {
    const sub = freshUser();
    const socket = await connect(api.url, issuer.sign({ sub, iat: now() - 5 }));
    socket.send('invoice', { id: sub });
    expect(await socket.next()).toMatchObject({ event: 'invoice' });
    await api.app.get(RevocationService).revokeSubject(sub);
    // No message sent: the socket is closed by the revocation itself.
    expect(await socket.next()).toEqual({
      event: 'exception',
      data: {
        status: 'error',
        statusCode: 401,
        code: 'ZT_TOKEN_REVOKED',
        message: 'The access token has been revoked',
      },
    });
    expect(await socket.closing).toEqual({ code: 4401, reason: 'ZT_TOKEN_REVOKED' });
    await api.app.get(AuditService).flush();
    expect(events).toContainEqual(
      expect.objectContaining({
        action: 'session_expired',
        decision: 'deny',
        code: 'ZT_TOKEN_REVOKED',
        principal: expect.objectContaining({ id: sub }),
      }),
    );
  });

  it('closes a socket whose token was revoked in the store behind the service, at its next message or re-check', async () => {
    const token = issuer.sign({ sub: freshUser() });
    const socket = await connect(api.url, token);
    const { jti, exp } = claimsOf(token);
    await api.app.get<RevocationStore>(RevocationStore).revokeToken(jti, exp);
    socket.send('whoami', {});
    expect(await socket.next()).toMatchObject({ data: { code: 'ZT_TOKEN_REVOKED' } });
    expect((await socket.closing).code).toBe(4401);
  });

  it("closes an idle socket at its token's exp", async () => {
    const token = issuer.sign({ sub: freshUser(), exp: now() + 2 });
    const socket = await connect(api.url, token);
    socket.send('whoami', {});
    expect(await socket.next()).toMatchObject({ event: 'whoami' });
    expect(await socket.next()).toMatchObject({
      event: 'exception',
      data: { statusCode: 401, code: 'ZT_TOKEN_EXPIRED' },
    });
    expect(await socket.closing).toEqual({ code: 4401, reason: 'ZT_TOKEN_EXPIRED' });
  });

  describe('authentication by a first message (browsers)', () => {
    it('authenticates the socket by `authenticate`, and decides every later message on that token', async () => {
      const token = issuer.sign({ sub: 'bob' });
      const socket = await connect(api.url);
      socket.send('authenticate', { token });
      // Sent before the authentication is over: decided once it is, on its token.
      socket.send('invoice', { id: 'inv-1' });
      expect(await socket.next()).toEqual({
        event: 'authenticated',
        data: { expiresAt: claimsOf(token).exp },
      });
      expect(await socket.next()).toEqual({
        event: 'invoice',
        data: { id: 'inv-1', customer: 'bob' },
      });
      socket.send('invoice', { id: 'inv-2' });
      expect(await socket.next()).toMatchObject({ data: { code: 'ZT_ACCESS_DENIED' } });
      socket.send('whoami', {});
      expect(await socket.next()).toEqual({ event: 'whoami', data: 'bob' });
      expect(socket.isClosed()).toBe(false);
      socket.close();
    });

    it('refuses a first message that is not `authenticate`, or a forged, malformed, wrong-audience or expired token in it, with 4401', async () => {
      const cases: [string, unknown, string][] = [
        ['invoice', { id: 'inv-1' }, 'ZT_TOKEN_MISSING'],
        ['authenticate', {}, 'ZT_TOKEN_MISSING'],
        ['authenticate', { token: 'garbage' }, 'ZT_TOKEN_MALFORMED'],
        [
          'authenticate',
          { token: forged(issuer.sign({ sub: 'bob' })) },
          'ZT_TOKEN_SIGNATURE_INVALID',
        ],
        [
          'authenticate',
          { token: issuer.sign({ sub: 'bob', aud: 'other' }) },
          'ZT_TOKEN_AUDIENCE_INVALID',
        ],
        [
          'authenticate',
          { token: issuer.sign({ sub: 'bob', iat: now() - 600, exp: now() - 300 }) },
          'ZT_TOKEN_EXPIRED',
        ],
      ];
      for (const [event, data, code] of cases) {
        const socket = await connect(api.url);
        socket.send(event, data);
        expect(await socket.next()).toEqual({
          event: 'exception',
          data: expect.objectContaining({ status: 'error', statusCode: 401, code }),
        });
        expect(await socket.closing).toEqual({ code: 4401, reason: code });
      }
    });

    it('closes a socket that sends no first message in time (slowloris)', async () => {
      const socket = await connect(api.url);
      expect(await socket.next()).toMatchObject({
        event: 'exception',
        data: { statusCode: 401, code: 'ZT_TOKEN_MISSING' },
      });
      expect(await socket.closing).toEqual({ code: 4401, reason: 'ZT_TOKEN_MISSING' });
    });

    it('refuses a token in the URL, even a valid one, and never reads it', async () => {
      const token = issuer.sign({ sub: 'bob' });
      for (const query of [`?access_token=${token}`, `?x=1&access_token[]=${token}`]) {
        const socket = await connect(api.url, undefined, query);
        socket.send('authenticate', { token });
        expect(await socket.next()).toMatchObject({
          event: 'exception',
          data: { code: 'ZT_TOKEN_METHOD_UNSUPPORTED' },
        });
        expect((await socket.closing).code).toBe(4401);
      }
    });

    it("closes an idle socket at its token's exp, and at once when its token is revoked", async () => {
      const expiring = await connect(api.url);
      expiring.send('authenticate', { token: issuer.sign({ sub: freshUser(), exp: now() + 2 }) });
      expect(await expiring.next()).toMatchObject({ event: 'authenticated' });
      const token = issuer.sign({ sub: freshUser() });
      const revoked = await connect(api.url);
      revoked.send('authenticate', { token });
      expect(await revoked.next()).toMatchObject({ event: 'authenticated' });
      await api.app.get(RevocationService).revokeToken(claimsOf(token).jti);
      expect(await revoked.next()).toMatchObject({ data: { code: 'ZT_TOKEN_REVOKED' } });
      expect(await revoked.closing).toEqual({ code: 4401, reason: 'ZT_TOKEN_REVOKED' });
      expect(await expiring.next()).toMatchObject({ data: { code: 'ZT_TOKEN_EXPIRED' } });
      expect(await expiring.closing).toEqual({ code: 4401, reason: 'ZT_TOKEN_EXPIRED' });
    });
  });

  it('watches hundreds of sockets of one token with one entry each, closes them all on its revocation and keeps none after', async () => {
    const watcher = api.app.get(ConnectionWatcher, { strict: false });
    // Every socket of the tests before was closed (by them or by the server).
    await vi.waitFor(() => expect(watcher.size).toBe(0));
    const token = issuer.sign({ sub: freshUser() });
    const sockets = await Promise.all(Array.from({ length: 300 }, () => connect(api.url, token)));
    // Each socket is watched once it is authenticated (at connection: a whoami answers after).
    await Promise.all(
      sockets.map(async (socket) => {
        socket.send('whoami', {});
        await socket.next();
      }),
    );
    expect(watcher.size).toBe(300);
    await api.app.get(RevocationService).revokeToken(claimsOf(token).jti);
    const closed = await Promise.all(sockets.map((socket) => socket.closing));
    expect(new Set(closed.map(({ code, reason }) => `${code} ${reason}`))).toEqual(
      new Set(['4401 ZT_TOKEN_REVOKED']),
    );
    expect(watcher.size).toBe(0);
  }, 60_000);

  it('closes a socket that sends a message over 1 MiB (1009), authenticated or not', async () => {
    for (const token of [undefined, issuer.sign({ sub: 'bob' })]) {
      const socket = await connect(api.url, token);
      socket.send('whoami', 'x'.repeat(2 * 1024 * 1024));
      expect((await socket.closing).code).toBe(1009);
    }
  });

  it('stops watching a socket its client closed: none of the sockets of these tests is left', async () => {
    const watcher = api.app.get(ConnectionWatcher, { strict: false });
    // Every socket of the tests before was closed (by them or by the server).
    await vi.waitFor(() => expect(watcher.size).toBe(0));
    const socket = await connect(api.url, issuer.sign({ sub: 'bob' }));
    socket.send('whoami', {});
    await socket.next();
    expect(watcher.size).toBe(1);
    socket.close();
    await socket.closing;
    await vi.waitFor(() => expect(watcher.size).toBe(0));
  });
});

describe.runIf(redisReady)('WebSocket gateways of two instances sharing Redis', () => {
  it('closes a socket held by one instance when its principal is revoked at the other', async () => {
    const keyPrefix = randomKeyPrefix();
    const instance = async (adapter: 'express' | 'fastify') => {
      @Module({
        imports: [
          ZeroTrustModule.forRoot({
            issuer: issuer.url,
            audience: issuer.audience,
            store: { type: 'redis', url: REDIS_URL, keyPrefix },
            connections: { recheckInterval: 1 },
          }),
        ],
        providers: [InvoiceGateway],
      })
      class InstanceModule {}
      return listenApp(InstanceModule, adapter, false, (app) =>
        app.useWebSocketAdapter(new ZeroTrustWsAdapter(app)),
      );
    };
    const [a, b] = [await instance('express'), await instance('fastify')];
    try {
      const sub = freshUser();
      const socket = await connect(a.url, issuer.sign({ sub, iat: now() - 5 }));
      socket.send('whoami', {});
      expect(await socket.next()).toEqual({ event: 'whoami', data: sub });
      await b.app.get(RevocationService).revokeSubject(sub);
      // Idle: closed by the instance's next re-check against Redis.
      expect(await socket.next()).toMatchObject({ data: { code: 'ZT_TOKEN_REVOKED' } });
      expect(await socket.closing).toEqual({ code: 4401, reason: 'ZT_TOKEN_REVOKED' });
    } finally {
      await a.app.close();
      await b.app.close();
    }
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

  it('says that ZeroTrustWsAdapter needs ZeroTrustModule in an app without it', async () => {
    @Module({})
    class PlainModule {}
    const app = await NestFactory.create(PlainModule, { logger: false, abortOnError: false });
    try {
      expect(() => new ZeroTrustWsAdapter(app)).toThrow(
        /needs the application to import ZeroTrustModule/,
      );
    } finally {
      await app.close();
    }
  });
});
