import { Controller, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ThrottlerModule } from '@nestjs/throttler';
import { ZeroTrustThrottlerModule } from 'nestjs-zero-trust/throttler';
import {
  ClientProxyFactory,
  Ctx,
  EventPattern,
  MessagePattern,
  NatsRecordBuilder,
  Payload,
  RmqRecordBuilder,
  Transport,
  type ClientProxy,
  type RmqContext,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import {
  Authenticated,
  Can,
  CurrentPrincipal,
  RevocationService,
  ZeroTrustModule,
  type Principal,
  type ZeroTrustModuleOptions,
} from 'nestjs-zero-trust';
import { AuditService, type DecisionEvent } from 'nestjs-zero-trust/audit';
import { natsRecord, rmqRecord, type MessageTokenSource } from 'nestjs-zero-trust/messages';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMQP_URL, NATS_URL, natsReady, rabbitReady } from './support/brokers.js';

/*
 * Microservice messages through the same pipeline as HTTP: a service token in the message
 * headers (NATS headers, AMQP headers), verified for this service's audience, @Can on
 * @MessagePattern and @EventPattern handlers, one decision record per message, and a replay
 * window on handlers that change state. Real NATS and RabbitMQ.
 */
const AUDIENCE = 'urn:payments-service';
const now = (): number => Math.floor(Date.now() / 1000);

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start({ audience: AUDIENCE });
});
afterAll(async () => {
  await issuer?.close();
});

const received: { pattern: string; data: unknown }[] = [];

@Controller()
class PaymentsMessages {
  @MessagePattern('payments.record')
  @Can('create', 'Payment')
  record(@Payload() data: unknown): { recorded: true } {
    received.push({ pattern: 'payments.record', data });
    return { recorded: true };
  }

  @EventPattern('test.payment.recorded')
  @Can('create', 'Payment')
  recorded(@Payload() data: unknown, @Ctx() context: unknown): void {
    received.push({ pattern: 'test.payment.recorded', data });
    const rmq = context as Partial<RmqContext>;
    if (rmq.getChannelRef !== undefined)
      rmq.getChannelRef().ack((context as RmqContext).getMessage());
  }

  @MessagePattern('whoami')
  @Authenticated()
  whoami(@CurrentPrincipal() principal: Principal | undefined): string | undefined {
    return principal?.id;
  }

  @MessagePattern('invoices.get')
  @Can('read', 'Invoice')
  invoice(): { id: string } {
    return { id: 'inv-1' };
  }
}

function options(events: DecisionEvent[], manualAck = false): ZeroTrustModuleOptions {
  return {
    issuer: issuer.url,
    audience: AUDIENCE,
    principals: {
      services: {
        'billing-worker': { roles: ['billing'] },
        'reporting-service': { roles: ['reporting'] },
      },
    },
    abilities: {
      service: (principal, _env, { can }) => {
        if (principal.roles.includes('billing')) can('create', 'Payment');
        can('read', 'Invoice');
      },
    },
    audit: { sink: { write: (event) => void events.push(event) } },
    messages: manualAck ? { rabbitMqAck: 'manual' } : {},
  };
}

const service = (id: string, claims: Record<string, unknown> = {}) =>
  issuer.sign({ sub: id, client_id: id, ...claims });
const BILLING = () => service('billing-worker');

type Transported = { transport: 'nats' | 'rmq'; server: INestMicroservice; client: ClientProxy };

async function start(transport: 'nats' | 'rmq', events: DecisionEvent[]): Promise<Transported> {
  const queue = `zt-test-${randomUUID()}`;
  const microservice =
    transport === 'nats'
      ? { transport: Transport.NATS, options: { servers: [NATS_URL], queue } }
      : {
          transport: Transport.RMQ,
          options: {
            urls: [AMQP_URL],
            queue,
            noAck: false,
            queueOptions: { durable: false, autoDelete: true },
          },
        };
  @Module({
    imports: [ZeroTrustModule.forRoot(options(events, transport === 'rmq'))],
    controllers: [PaymentsMessages],
  })
  class MessagesModule {}
  const moduleRef = await Test.createTestingModule({ imports: [MessagesModule] }).compile();
  const server = moduleRef.createNestMicroservice(microservice as never);
  server.useLogger(false);
  await server.listen();
  // The client's reply consumer acknowledges automatically (RabbitMQ's direct reply-to).
  const clientOptions =
    transport === 'nats'
      ? microservice
      : { ...microservice, options: { ...microservice.options, noAck: true } };
  const client = ClientProxyFactory.create(clientOptions as never) as unknown as ClientProxy;
  await client.connect();
  return { transport, server, client };
}

/** A send or emit with `token` in the headers and a message id, as the client helper builds it. */
function messageRecord(
  transport: 'nats' | 'rmq',
  data: unknown,
  token?: string,
  messageId: string = randomUUID(),
) {
  if (transport === 'nats') {
    const h = natsHeaders();
    if (token !== undefined) h.set('authorization', `Bearer ${token}`);
    h.set('message-id', messageId);
    return new NatsRecordBuilder(data).setHeaders(h).build();
  }
  const headers: Record<string, string> =
    token === undefined ? {} : { authorization: `Bearer ${token}` };
  return new RmqRecordBuilder(data).setOptions({ headers, messageId }).build();
}

describe.each([
  ['nats', natsReady],
  ['rmq', rabbitReady],
] as const)('messages over %s', (transport, ready) => {
  const events: DecisionEvent[] = [];
  let t: Transported;

  beforeAll(async () => {
    if (ready) t = await start(transport, events);
  }, 30_000);
  afterAll(async () => {
    await t?.client.close();
    await t?.server.close();
  });

  const send = (pattern: string, data: unknown, token?: string, id?: string) =>
    firstValueFrom(
      t.client.send(pattern, messageRecord(transport, data, token, id)).pipe(timeout(5000)),
    ).then(
      (value: unknown) => ({ ok: value }),
      (error: unknown) => ({ error }),
    );

  async function audited(): Promise<DecisionEvent[]> {
    await t.server.get(AuditService).flush();
    return events.splice(0);
  }

  it.runIf(ready)(
    'serves a service whose token allows the action, with one decision record',
    async () => {
      await audited();
      expect(await send('payments.record', { amount: 1 }, BILLING())).toEqual({
        ok: { recorded: true },
      });
      const [record, ...others] = await audited();
      expect(others).toEqual([]);
      expect(record).toMatchObject({
        decision: 'allow',
        principal: { kind: 'service', id: 'billing-worker' },
        request: { method: 'MESSAGE', route: `${transport}:payments.record` },
        stages: [
          expect.objectContaining({ action: 'authn_token_valid' }),
          expect.objectContaining({
            action: 'authz_success',
            authorization: { action: 'create', subject: 'Payment' },
          }),
        ],
      });
    },
  );

  it.runIf(ready)('hands the verified principal to the handler (@CurrentPrincipal)', async () => {
    expect(await send('whoami', {}, BILLING())).toEqual({ ok: 'billing-worker' });
  });

  it.runIf(ready)(
    'refuses, with a code, a message without a token or with a forged, expired, revoked or foreign token',
    async () => {
      await t.server
        .get(RevocationService)
        .revokeSubject('billing-worker', Math.floor(Date.now() / 1000) - 600);
      const other = await TestIssuer.start({ audience: AUDIENCE });
      try {
        const cases: [string | undefined, string][] = [
          [undefined, 'ZT_TOKEN_MISSING'],
          [`${BILLING()}${'A'.repeat(9000)}`, 'ZT_TOKEN_TOO_LARGE'],
          [
            other.sign({ sub: 'billing-worker', client_id: 'billing-worker', iss: issuer.url }),
            'ZT_TOKEN_KEY_UNKNOWN',
          ],
          [
            service('billing-worker', { exp: Math.floor(Date.now() / 1000) - 60 }),
            'ZT_TOKEN_EXPIRED',
          ],
          [service('billing-worker', { aud: 'urn:another-service' }), 'ZT_TOKEN_AUDIENCE_INVALID'],
          [service('billing-worker', { iat: now() - 700, exp: now() + 100 }), 'ZT_TOKEN_REVOKED'],
        ];
        for (const [token, code] of cases)
          expect(await send('invoices.get', {}, token)).toEqual({
            error: expect.objectContaining({ status: 'error', code }),
          });
      } finally {
        await other.close();
      }
    },
  );

  it.runIf(ready)(
    "refuses a service whose token does not allow the action (reporting-service can't pay)",
    async () => {
      await audited();
      const marker = randomUUID();
      expect(await send('payments.record', { marker }, service('reporting-service'))).toEqual({
        error: {
          status: 'error',
          statusCode: 403,
          code: 'ZT_ACCESS_DENIED',
          message: 'Access denied',
        },
      });
      expect(received.filter((r) => (r.data as { marker?: string }).marker === marker)).toEqual([]);
      expect(await audited()).toContainEqual(
        expect.objectContaining({ decision: 'deny', code: 'ZT_ACCESS_DENIED' }),
      );
    },
  );

  it.runIf(ready)(
    'sends with natsRecord / rmqRecord: the token of the audience, a message id each',
    async () => {
      const requested: string[] = [];
      const tokens: MessageTokenSource = {
        getToken: (audience: string) => {
          requested.push(audience);
          return Promise.resolve({ accessToken: BILLING(), tokenType: 'Bearer' });
        },
      };
      const build = transport === 'nats' ? natsRecord : rmqRecord;
      const same = { amount: randomUUID() };
      for (let i = 0; i < 2; i += 1) {
        const sent = await firstValueFrom(
          t.client.send('payments.record', await build(tokens, AUDIENCE, same)).pipe(timeout(5000)),
        );
        expect(sent).toEqual({ recorded: true });
      }
      expect(requested).toEqual([AUDIENCE, AUDIENCE]);
      const dpop: MessageTokenSource = {
        getToken: () => Promise.resolve({ accessToken: BILLING(), tokenType: 'DPoP' }),
      };
      await expect(build(dpop, AUDIENCE, same)).rejects.toThrow(/bearer tokens/);
    },
  );

  it.runIf(ready)(
    'refuses a replayed message to a handler that changes state, not to one that reads',
    async () => {
      const token = BILLING();
      const id = randomUUID();
      expect(await send('payments.record', { amount: 7 }, token, id)).toEqual({
        ok: { recorded: true },
      });
      expect(await send('payments.record', { amount: 7 }, token, id)).toEqual({
        error: expect.objectContaining({ code: 'ZT_MESSAGE_REPLAY' }),
      });
      expect(await send('invoices.get', {}, token, id)).toEqual({ ok: { id: 'inv-1' } });
      expect(await send('invoices.get', {}, token, id)).toEqual({ ok: { id: 'inv-1' } });
    },
  );

  it.runIf(ready)(
    'handles an allowed event and drops a refused one, audited (RabbitMQ: rejected, the consumer goes on)',
    async () => {
      await audited();
      const marker = randomUUID();
      t.client.emit('test.payment.recorded', messageRecord(transport, { marker, who: 'nobody' }));
      t.client.emit(
        'test.payment.recorded',
        messageRecord(transport, { marker, who: 'reporting' }, service('reporting-service')),
      );
      t.client.emit(
        'test.payment.recorded',
        messageRecord(transport, { marker, who: 'billing' }, BILLING()),
      );
      await expect
        .poll(() =>
          received
            .filter((r) => (r.data as { marker?: string }).marker === marker)
            .map((r) => (r.data as { who: string }).who),
        )
        .toEqual(['billing']);
      await expect
        .poll(
          async () => (
            events.push(...(await audited())),
            events.filter((e) => e.decision === 'deny').length
          ),
        )
        .toBe(2);
    },
  );
});

describe.runIf(natsReady)('messages in a hybrid app (HTTP and NATS in one app)', () => {
  describe.each([
    ['express', false],
    ['fastify', true],
  ] as const)('%s, inheritAppConfig %s', (adapter, inheritAppConfig) => {
    const events: DecisionEvent[] = [];
    let app: INestApplication;
    let client: ClientProxy;

    beforeAll(async () => {
      const queue = `zt-test-${randomUUID()}`;
      const nats = { transport: Transport.NATS, options: { servers: [NATS_URL], queue } };
      @Module({
        imports: [ZeroTrustModule.forRoot(options(events))],
        controllers: [PaymentsMessages],
      })
      class HybridModule {}
      const moduleRef = await Test.createTestingModule({ imports: [HybridModule] }).compile();
      app =
        adapter === 'fastify'
          ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
          : moduleRef.createNestApplication({ logger: false });
      // Without inheritAppConfig the app's global guards never see a message: the handlers are
      // guarded all the same.
      app.connectMicroservice(nats as never, { inheritAppConfig });
      await app.init();
      await app.startAllMicroservices();
      client = ClientProxyFactory.create(nats as never) as unknown as ClientProxy;
      await client.connect();
    }, 30_000);
    afterAll(async () => {
      await client?.close();
      await app?.close();
    });

    const send = (data: unknown, token?: string) =>
      firstValueFrom(
        client.send('payments.record', messageRecord('nats', data, token)).pipe(timeout(5000)),
      ).then(
        (value: unknown) => ({ ok: value }),
        (error: unknown) => ({ error }),
      );

    it('refuses a message without a token, and serves an allowed one with one decision record', async () => {
      expect(await send({ n: 1 })).toEqual({
        error: expect.objectContaining({ code: 'ZT_TOKEN_MISSING' }),
      });
      await app.get(AuditService).flush();
      events.length = 0;
      expect(await send({ n: 2 }, BILLING())).toEqual({ ok: { recorded: true } });
      await app.get(AuditService).flush();
      expect(events).toEqual([expect.objectContaining({ decision: 'allow' })]);
    });
  });
});

describe('message handlers at boot', () => {
  it('refuses to boot with a message handler that has no access policy', async () => {
    @Controller()
    class Unprotected {
      @EventPattern('anything')
      handle(_data: unknown): void {}
    }
    @Module({ imports: [ZeroTrustModule.forRoot(options([]))], controllers: [Unprotected] })
    class BadModule {}
    const moduleRef = await Test.createTestingModule({ imports: [BadModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow(/anything|handle/);
    await app.close();
  });
});

describe.runIf(natsReady)('messages: sender-bound tokens and the per-principal rate limit', () => {
  let server: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    const queue = `zt-test-${randomUUID()}`;
    const nats = { transport: Transport.NATS, options: { servers: [NATS_URL], queue } };
    @Module({
      imports: [
        ZeroTrustModule.forRoot(options([])),
        ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 3 }] }),
        ZeroTrustThrottlerModule,
      ],
      controllers: [PaymentsMessages],
    })
    class LimitedModule {}
    const moduleRef = await Test.createTestingModule({ imports: [LimitedModule] }).compile();
    server = moduleRef.createNestMicroservice(nats as never);
    server.useLogger(false);
    await server.listen();
    client = ClientProxyFactory.create(nats as never) as unknown as ClientProxy;
    await client.connect();
  }, 30_000);
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  const send = (token: string) =>
    firstValueFrom(
      client.send('invoices.get', messageRecord('nats', {}, token)).pipe(timeout(5000)),
    ).then(
      () => 'ok',
      (error: { code?: string }) => error.code,
    );

  it('refuses certificate-bound and DPoP-bound tokens: a message proves no possession', async () => {
    expect(await send(service('billing-worker', { cnf: { 'x5t#S256': 'AAAA' } }))).toMatch(
      /^ZT_CERTIFICATE_/,
    );
    expect(await send(service('billing-worker', { cnf: { jkt: 'AAAA' } }))).toBe(
      'ZT_DPOP_BOUND_TOKEN_AS_BEARER',
    );
  });

  it("limits each principal's messages as its requests", async () => {
    const results = [];
    for (let i = 0; i < 4; i += 1) results.push(await send(service('reporting-service')));
    expect(results).toEqual(['ok', 'ok', 'ok', 'ZT_RATE_LIMITED']);
    // Another principal has its own count.
    expect(await send(BILLING())).toBe('ok');
  });
});
