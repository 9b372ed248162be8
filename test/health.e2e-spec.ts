import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { connect, createServer } from 'node:net';
import { JwksKeySource } from '../libs/zero-trust/src/identity/jwks-key-source.js';
import { MemoryRevocationStore } from '../libs/zero-trust/src/stores/memory/memory-revocation.store.js';
import { MemorySharedStateStore } from '../libs/zero-trust/src/stores/memory/memory-shared-state.store.js';
import {
  Public,
  ZeroTrustModule,
  type SharedStateStore,
  type ZeroTrustModuleOptions,
} from 'nestjs-zero-trust';
import { ZeroTrustHealthIndicator } from 'nestjs-zero-trust/health';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  canSpawnRedis,
  privateRedis,
  randomKeyPrefix,
  REDIS_URL,
  redisReady,
  testRedisClient,
  type PrivateRedis,
} from './support/redis.js';

/** A port nothing listens on: a server bound to port 0, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A shared store whose backend is a TCP service that is down: every call rejects. */
class UnreachableStore extends MemorySharedStateStore implements SharedStateStore {
  constructor(private readonly port: number) {
    super();
  }
  override ping(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    });
  }
}

@Controller('health')
class ProbeController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly zeroTrust: ZeroTrustHealthIndicator,
  ) {}

  @Get('ready')
  @Public()
  @HealthCheck()
  ready() {
    return this.health.check([() => this.zeroTrust.issuer(), () => this.zeroTrust.store()]);
  }
}

const apps: INestApplication[] = [];
const issuers: TestIssuer[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const issuer of issuers.splice(0)) await issuer.close().catch(() => undefined);
});

async function start(
  options: Partial<ZeroTrustModuleOptions> = {},
  issuer?: TestIssuer,
): Promise<{ url: string; issuer: TestIssuer; app: INestApplication }> {
  const running = issuer ?? (await TestIssuer.start());
  issuers.push(running);
  @Module({
    imports: [
      TerminusModule,
      ZeroTrustModule.forRoot({ issuer: running.url, audience: running.audience, ...options }),
    ],
    controllers: [ProbeController],
    providers: [ZeroTrustHealthIndicator],
  })
  class HealthApp {}
  const moduleRef = await Test.createTestingModule({ imports: [HealthApp] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, issuer: running, app };
}

async function ready(url: string) {
  const response = await fetch(`${url}/health/ready`);
  return {
    status: response.status,
    body: (await response.json()) as {
      status: string;
      details: Record<string, { status: string; [key: string]: unknown }>;
    },
  };
}

describe('zero-trust health indicators', () => {
  it('is up with the key count and age when the issuer and the store answer', async () => {
    const { url } = await start();
    const { status, body } = await ready(url);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.details.zero_trust_issuer).toMatchObject({
      status: 'up',
      keys: 1,
      reachable: true,
    });
    expect(body.details.zero_trust_issuer?.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(body.details.zero_trust_store).toEqual({ status: 'up' });
  });

  it('is down when the JWKS server was never reachable', async () => {
    const issuer = await TestIssuer.start();
    await issuer.close();
    const { url } = await start({}, issuer);
    const { status, body } = await ready(url);
    expect(status).toBe(503);
    expect(body.details.zero_trust_issuer).toMatchObject({ status: 'down', keys: 0 });
  });

  it('is degraded when the JWKS server stops and the cached keys are still young', async () => {
    const { url, issuer, app } = await start({ jwks: { maxAge: 600, cooldown: 0 } });
    expect((await ready(url)).body.details.zero_trust_issuer?.status).toBe('up');
    await issuer.close();
    // A refresh (e.g. for an unknown kid) finds the issuer gone; the cached keys still serve.
    await expect(app.get(JwksKeySource).refresh()).rejects.toMatchObject({
      code: 'ZT_KEYS_UNAVAILABLE',
    });
    const { status, body } = await ready(url);
    expect(status).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.details.zero_trust_issuer).toMatchObject({
      status: 'degraded',
      keys: 1,
      reachable: false,
    });
  });

  it('is down when the JWKS server stops and the keys are older than allowed', async () => {
    const { url, issuer } = await start({
      jwks: { maxAge: 0.001, cooldown: 0 },
      monitoring: { health: { maxKeyAge: 0.001 } },
    });
    // The first probe waits for the keys (the boot fetch may still be running).
    expect((await ready(url)).body.details.zero_trust_issuer?.keys).toBe(1);
    await issuer.close();
    const { status, body } = await ready(url);
    expect(status).toBe(503);
    expect(body.details.zero_trust_issuer).toMatchObject({
      status: 'down',
      keys: 1,
      reachable: false,
      message: "the issuer's keys are older than allowed",
    });
  });

  it('is down when the shared store is unreachable', async () => {
    const { url } = await start({
      store: {
        type: 'custom',
        revocations: new MemoryRevocationStore(),
        state: new UnreachableStore(await closedPort()),
      },
    });
    const { status, body } = await ready(url);
    expect(status).toBe(503);
    expect(body.details.zero_trust_issuer?.status).toBe('up');
    expect(body.details.zero_trust_store).toEqual({
      status: 'down',
      message: 'the shared state store does not answer',
    });
  });
});

describe.runIf(redisReady)('zero-trust store health with Redis (shared Redis)', () => {
  let admin: Redis;
  let original: string;

  beforeAll(async () => {
    admin = testRedisClient();
    await admin.connect();
    const [, policy] = await admin.config('GET', 'maxmemory-policy');
    original = policy ?? 'noeviction';
  });
  afterAll(async () => {
    // Other suites share this Redis: put its policy back whatever happened.
    await admin.config('SET', 'maxmemory-policy', original);
    admin.disconnect();
  });

  it('is up under noeviction, and down under any policy that could evict security keys', async () => {
    const { url } = await start({
      store: { type: 'redis', url: REDIS_URL, keyPrefix: randomKeyPrefix() },
    });
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    const safe = await ready(url);
    expect(safe.status).toBe(200);
    expect(safe.body.details.zero_trust_store).toEqual({
      status: 'up',
      topology: 'standalone',
      maxmemoryPolicy: 'noeviction',
    });
    // Every key written has a TTL, so the volatile-* policies may evict all of them too.
    for (const policy of ['allkeys-lru', 'volatile-lru', 'volatile-ttl']) {
      await admin.config('SET', 'maxmemory-policy', policy);
      const unsafe = await ready(url);
      expect(unsafe.status).toBe(503);
      expect(unsafe.body.details.zero_trust_store).toEqual({
        status: 'down',
        topology: 'standalone',
        maxmemoryPolicy: policy,
        message:
          'Redis may evict replay entries and revocations before they expire; set maxmemory-policy noeviction',
      });
    }
    await admin.config('SET', 'maxmemory-policy', original);
  });
});

describe.runIf(canSpawnRedis)('zero-trust store health with a Redis that disables CONFIG', () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    // As managed services do: CONFIG cannot be called.
    redis = await privateRedis(['--rename-command', 'CONFIG', '']);
    await redis.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('reports the policy as unknown, and stays up', async () => {
    const { url } = await start({ store: { type: 'redis', url: redis.url } });
    const { status, body } = await ready(url);
    expect(status).toBe(200);
    expect(body.details.zero_trust_store).toEqual({
      status: 'up',
      topology: 'standalone',
      maxmemoryPolicy: 'unknown',
      message: 'Redis refused CONFIG GET maxmemory-policy; make sure it is noeviction',
    });
  });
});
