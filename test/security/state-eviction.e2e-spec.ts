import {
  Controller,
  Get,
  Module,
  type INestApplication,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuditService, AuditSink } from 'nestjs-zero-trust/audit';
import {
  Authenticated,
  Public,
  RevocationService,
  SharedStateStore,
  StoreFullError,
  ZeroTrustMetrics,
  ZeroTrustModule,
  type ZeroTrustStoreOptions,
} from 'nestjs-zero-trust';
import { MemoryRevocationStore } from '../../libs/zero-trust/src/stores/memory/memory-revocation.store.js';
import { MemorySharedStateStore } from '../../libs/zero-trust/src/stores/memory/memory-shared-state.store.js';
import { SharedStateThrottlerStorage, ZeroTrustThrottlerModule } from 'nestjs-zero-trust/throttler';
import {
  createDpopKey,
  createDpopProof,
  TestIssuer,
  type DpopKey,
} from 'nestjs-zero-trust/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_GEO_DATABASE } from '../../apps/demo-api/src/config.js';
import { ADAPTERS, RecordingSink } from '../support/demo-api.js';
import { randomKeyPrefix, REDIS_URL, redisReady, testRedisClient } from '../support/redis.js';

/*
 * Issue 17 §3: security state cannot be evicted by anyone. Anonymous requests from many
 * forwarded addresses create per-address state (rate-limit counters); they must never push out
 * DPoP replay entries nor a principal's location history, and a full replay or revocation
 * budget must refuse rather than drop. Budgets are made small so that a few dozen requests
 * stand for the ~55,000 that filled the default single pool of 100,000 keys.
 */

const PUBLIC_URL = 'https://api.state.test';
const LONDON = '81.2.69.142';
const CHANGCHUN = '175.16.199.7';

@Controller()
class StateController {
  @Get('health')
  @Public()
  health(): { status: string } {
    return { status: 'ok' };
  }

  @Get('me')
  @Authenticated()
  me(): { ok: true } {
    return { ok: true };
  }
}

/** Log lines of the application, by level. */
class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: unknown): void {
    this.lines.push({ level: 'log', message: String(message) });
  }
  error(message: unknown): void {
    this.lines.push({ level: 'error', message: String(message) });
  }
  warn(message: unknown): void {
    this.lines.push({ level: 'warn', message: String(message) });
  }
}

interface Running {
  app: INestApplication;
  url: string;
  sink: RecordingSink;
  logger: CapturingLogger;
}

/** An API with DPoP, geolocation risk and a throttler on the shared store, behind loopback. */
async function start(
  adapter: (typeof ADAPTERS)[number],
  issuer: TestIssuer,
  store: ZeroTrustStoreOptions,
): Promise<Running> {
  @Module({
    imports: [
      ZeroTrustModule.forRoot({
        issuer: issuer.url,
        audience: issuer.audience,
        trustedProxies: ['loopback'],
        dpop: { publicUrl: PUBLIC_URL },
        risk: {
          mode: 'enforce',
          stepUp: { acr: 'urn:test:mfa', maxAge: 300 },
          geolocation: { database: DEMO_GEO_DATABASE },
        },
        store,
      }),
      ThrottlerModule.forRootAsync({
        inject: [SharedStateStore],
        useFactory: (state: SharedStateStore) => ({
          throttlers: [{ ttl: 60_000, limit: 1000 }],
          storage: new SharedStateThrottlerStorage(state),
        }),
      }),
      ZeroTrustThrottlerModule,
    ],
    controllers: [StateController],
  })
  class StateApi {}
  const sink = new RecordingSink();
  const logger = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({ imports: [StateApi as Type] })
    .overrideProvider(AuditSink)
    .useValue(sink)
    .compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, sink, logger };
}

interface Answer {
  status: number;
  code: string | undefined;
  retryAfter: string | null;
}

async function get(
  api: Running,
  path: string,
  from: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${api.url}${path}`, {
    headers: { 'x-forwarded-for': from, ...headers },
  });
  const body = (await response.json()) as { code?: string };
  await api.app.get(AuditService).flush();
  return {
    status: response.status,
    code: body.code,
    retryAfter: response.headers.get('retry-after'),
  };
}

/** `count` anonymous health checks, each from an address of its own. */
async function flood(api: Running, count: number, seed: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const answer = await get(api, '/health', `10.${seed}.${i >> 8}.${i & 255}`);
    expect(answer.status).toBe(200);
  }
}

describe.each(ADAPTERS)('security state under a flood of anonymous requests (%s)', (adapter) => {
  let issuer: TestIssuer;
  let key: DpopKey;
  let api: Running | undefined;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: 'https://api.state.test' });
    key = createDpopKey();
  });
  afterEach(async () => {
    await api?.app.close();
    api = undefined;
  });
  afterAll(async () => {
    await issuer?.close();
  });

  const boundToken = (sub: string): string => issuer.sign({ sub, cnf: { jkt: key.jkt } });
  const proofFor = (token: string): string =>
    createDpopProof({ key, method: 'GET', url: `${PUBLIC_URL}/me`, accessToken: token });
  const dpop = (token: string, proof = proofFor(token)): Record<string, string> => ({
    authorization: `DPoP ${token}`,
    dpop: proof,
  });

  it('still refuses a replayed DPoP proof and still sees impossible travel after the flood', async () => {
    // A store sized as the single pool used to be: 30 keys for everything. Now 30 per class.
    const state = new MemorySharedStateStore({
      maxAddressKeys: 30,
      maxPrincipalKeys: 30,
      maxSetSize: 100,
    });
    api = await start(adapter, issuer, {
      type: 'custom',
      revocations: new MemoryRevocationStore(),
      state,
    });
    const token = boundToken('alice');
    const proof = proofFor(token);
    expect((await get(api, '/me', LONDON, dpop(token, proof))).status).toBe(200);

    // Two rate-limit keys per address: 60 addresses write four times the pool's size.
    await flood(api, 60, 1);
    expect(state.sizes()).toMatchObject({ address: 30, replay: 1 });

    expect(await get(api, '/me', LONDON, dpop(token, proof))).toMatchObject({
      status: 401,
      code: 'ZT_DPOP_REPLAY',
    });
    // Minutes later from the other side of the world: alice's London visit is remembered.
    const travelled = await get(api, '/me', CHANGCHUN, dpop(token));
    expect(travelled).toMatchObject({ status: 401, code: 'ZT_STEP_UP_REQUIRED' });
    expect(api.sink.events.map((e) => e.action)).toContain('authn_impossible_travel');
  });

  it('refuses new DPoP proofs with 503 ZT_STORE_FULL when the replay budget is full', async () => {
    api = await start(adapter, issuer, {
      type: 'memory',
      limits: { replay: 2, addresses: 10, principals: 50 },
    });
    const token = boundToken('bob');
    const first = proofFor(token);
    expect((await get(api, '/me', LONDON, dpop(token, first))).status).toBe(200);
    expect((await get(api, '/me', LONDON, dpop(token))).status).toBe(200);

    const refused = await get(api, '/me', LONDON, dpop(token));
    expect(refused).toMatchObject({ status: 503, code: 'ZT_STORE_FULL' });
    // Room frees up when the oldest proof's entry expires (iatWindow 60 s + tolerance 5 s).
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(65);
    expect(api.sink.last()).toMatchObject({ decision: 'deny', code: 'ZT_STORE_FULL' });
    const metrics = await api.app.get(ZeroTrustMetrics).registry.metrics();
    expect(metrics).toContain('zero_trust_store_full_total{concern="replay"} 1');
    expect(api.logger.lines).toContainEqual({
      level: 'error',
      message: expect.stringMatching(
        /^The replay store is full \(2 entries\): new DPoP proofs are refused/,
      ),
    });

    // Full or not, and after a flood, a used proof stays used; anonymous requests still pass.
    await flood(api, 30, 2);
    expect(await get(api, '/me', LONDON, dpop(token, first))).toMatchObject({
      status: 401,
      code: 'ZT_DPOP_REPLAY',
    });
  });

  it('refuses a revocation loudly when the revocation budget is full, and keeps the ones it holds', async () => {
    api = await start(adapter, issuer, { type: 'memory', limits: { revocations: 1 } });
    const revocations = api.app.get(RevocationService);
    const revoked = issuer.sign({ sub: 'carol', jti: 'revoked-1' });
    await revocations.revokeToken('revoked-1');
    await expect(revocations.revokeToken('revoked-2')).rejects.toBeInstanceOf(StoreFullError);
    await expect(revocations.revokeSubject('dave')).rejects.toMatchObject({
      code: 'ZT_STORE_FULL',
    });
    const metrics = await api.app.get(ZeroTrustMetrics).registry.metrics();
    expect(metrics).toContain('zero_trust_store_full_total{concern="revocation"} 2');
    expect(api.logger.lines).toContainEqual({
      level: 'error',
      message: expect.stringMatching(/^The revocation store is full \(1 entries\)/),
    });
    await flood(api, 20, 3);
    expect(await get(api, '/me', LONDON, { authorization: `Bearer ${revoked}` })).toMatchObject({
      status: 401,
      code: 'ZT_TOKEN_REVOKED',
    });
  });
});

describe.runIf(redisReady).each(ADAPTERS)('security state in Redis (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: Running;
  const prefix = randomKeyPrefix();
  const key = createDpopKey();

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: 'https://api.state.test' });
    api = await start(adapter, issuer, { type: 'redis', url: REDIS_URL, keyPrefix: prefix });
  });
  afterAll(async () => {
    await api?.app.close();
    await issuer?.close();
  });

  it('gives every key a TTL, so that none outlives its use (and noeviction can hold them all)', async () => {
    const token = issuer.sign({ sub: 'erin', jti: 'erin-1', cnf: { jkt: key.jkt } });
    const proof = createDpopProof({
      key,
      method: 'GET',
      url: `${PUBLIC_URL}/me`,
      accessToken: token,
    });
    const headers = { authorization: `DPoP ${token}`, dpop: proof };
    expect((await get(api, '/me', LONDON, headers)).status).toBe(200);
    await flood(api, 10, 4);
    expect(await get(api, '/me', LONDON, headers)).toMatchObject({
      status: 401,
      code: 'ZT_DPOP_REPLAY',
    });
    expect((await get(api, '/me', LONDON, { authorization: 'Bearer junk' })).status).toBe(401);
    await api.app.get(RevocationService).revokeToken('other-jti');
    await api.app.get(RevocationService).revokeSubject('frank');

    const client = testRedisClient();
    await client.connect();
    try {
      const keys = await client.keys(`${prefix}*`);
      const classes = new Set(keys.map((k) => k.slice(prefix.length).split(':')[0]));
      // Replay entries, per-address counters, principal state and revocations were all written.
      expect([...classes]).toEqual(expect.arrayContaining(['addr', 'replay', 'revocation']));
      expect(keys.length).toBeGreaterThan(20);
      for (const k of keys) expect([k, (await client.ttl(k)) > 0]).toEqual([k, true]);
    } finally {
      client.disconnect();
    }
  });
});

describe('boot in production with the in-memory store', () => {
  let issuer: TestIssuer;
  const environment = process.env.NODE_ENV;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: 'https://api.state.test' });
  });
  afterAll(async () => {
    process.env.NODE_ENV = environment;
    await issuer?.close();
  });

  it('warns that revocations and replay entries live in this process only', async () => {
    process.env.NODE_ENV = 'production';
    let api: Running | undefined;
    try {
      api = await start('express', issuer, { type: 'memory' });
    } finally {
      process.env.NODE_ENV = environment;
    }
    const warnings = api.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    await api.app.close();
    expect(warnings).toContainEqual(
      expect.stringMatching(
        /^Revocations and DPoP replay entries live in this process only \(store.type "memory"\): they do not survive a restart nor reach other instances/,
      ),
    );
  });

  it('says nothing of it outside production, nor with Redis', async () => {
    const api = await start('express', issuer, { type: 'memory' });
    const warnings = api.logger.lines.filter((l) => l.level === 'warn');
    await api.app.close();
    expect(warnings.filter((l) => l.message.includes('live in this process only'))).toEqual([]);
    process.env.NODE_ENV = 'production';
    let redis: Running | undefined;
    try {
      if (redisReady)
        redis = await start('express', issuer, {
          type: 'redis',
          url: REDIS_URL,
          keyPrefix: randomKeyPrefix(),
        });
    } finally {
      process.env.NODE_ENV = environment;
    }
    if (redis === undefined) return;
    const lines = redis.logger.lines.filter((l) => l.message.includes('live in this process only'));
    await redis.app.close();
    expect(lines).toEqual([]);
  });
});
