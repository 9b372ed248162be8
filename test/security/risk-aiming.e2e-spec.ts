import {
  Controller,
  ForbiddenException,
  Get,
  Module,
  type DynamicModule,
  type INestApplication,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuditService } from 'nestjs-zero-trust/audit';
import {
  Authenticated,
  CurrentPrincipal,
  type Principal,
  type ZeroTrustModuleOptions,
  ZeroTrustModule,
} from 'nestjs-zero-trust';
import {
  createDpopKey,
  createDpopProof,
  TestIssuer,
  type DpopKey,
} from 'nestjs-zero-trust/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BillingWorker } from '../../apps/billing-worker/src/billing-worker.js';
import { WorkerModule } from '../../apps/billing-worker/src/worker.module.js';
import { DEMO_GEO_DATABASE } from '../../apps/demo-api/src/config.js';
import { readMutualTlsSettings } from '../../apps/demo-api/src/mtls.js';
import { DEMO_AUDIENCE } from '../../apps/identity/src/constants.js';
import {
  ADAPTERS,
  call,
  RecordingSink,
  startDemoApi,
  type RunningApi,
} from '../support/demo-api.js';
import {
  startTestIdentityProvider,
  workloadTls,
  type TestIdentityProvider,
} from '../support/identity.js';
import {
  freePort,
  randomKeyPrefix,
  redisReady,
  REDIS_URL,
  testRedisClient,
} from '../support/redis.js';

/**
 * Issue 17 §4: risk signals cannot be aimed at a victim. Junk sent from an address (any process
 * on a shared host, anyone behind the same NAT) refuses neither the services nor the users at
 * that address; a principal's own failures still count against it; the learnt state of a
 * service cannot lock it out once it is lost; a service that proved its key is not judged on
 * geography; and names like `constructor` are ordinary names everywhere.
 */

const LONDON = '81.2.69.142';
const CHANGCHUN = '175.16.199.7';
/** Names that an object literal used as a map answers from Object.prototype. */
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

@Controller()
class AimedController {
  @Get('whoami')
  @Authenticated()
  whoami(@CurrentPrincipal() principal: Principal): { kind: string; id: string } {
    return { kind: principal.kind, id: principal.id };
  }

  @Get('a')
  @Authenticated()
  a(): { ok: true } {
    return { ok: true };
  }

  @Get('b')
  @Authenticated()
  b(): { ok: true } {
    return { ok: true };
  }

  @Get('c')
  @Authenticated()
  c(): { ok: true } {
    return { ok: true };
  }

  @Get('constructor')
  @Authenticated()
  constructorRoute(): { ok: true } {
    return { ok: true };
  }

  @Get('__proto__')
  @Authenticated()
  protoRoute(): { ok: true } {
    return { ok: true };
  }

  /** Always refuses: the principal's own failure. */
  @Get('forbidden')
  @Authenticated()
  forbidden(): never {
    throw new ForbiddenException();
  }
}

@Module({})
class AimedApiModule {
  static register(options: ZeroTrustModuleOptions): DynamicModule {
    return {
      module: AimedApiModule,
      imports: [ZeroTrustModule.forRoot(options)],
      controllers: [AimedController],
    };
  }
}

interface AimedApi {
  url: string;
  app: INestApplication;
  sink: RecordingSink;
}

/** Services registered by client id, some named like Object.prototype members. */
const SERVICES = {
  'billing-worker': { roles: ['billing'] },
  'reporting-service': { roles: ['reporting'] },
  hasOwnProperty: { roles: ['billing'] },
  valueOf: { roles: ['billing'] },
};

async function startAimedApi(
  issuer: TestIssuer,
  adapter: 'express' | 'fastify',
  store: ZeroTrustModuleOptions['store'] = { type: 'memory' },
): Promise<AimedApi> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const sink = new RecordingSink();
  const moduleRef = await Test.createTestingModule({
    imports: [
      AimedApiModule.register({
        issuer: issuer.url,
        audience: issuer.audience,
        principals: { services: SERVICES },
        store,
        dpop: { publicUrl: url },
        audit: { sink },
        // Refused credentials per address: throttles unauthenticated attempts only.
        authenticationFailures: { max: 20, window: 60 },
        // Tests speak for many clients through X-Forwarded-For from loopback.
        trustedProxies: ['loopback'],
        risk: {
          mode: 'enforce',
          geolocation: { database: DEMO_GEO_DATABASE },
          device: {},
          usage: {
            learningRequests: 3,
            hours: Object.fromEntries(PROTOTYPE_NAMES.map((name) => [name, '00:00-00:00'])),
          },
          network: { services: { valueOf: ['0.0.0.0/0', '::/0'] } },
          failures: { threshold: 20 },
        },
      }),
    ],
  }).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await app.listen(port, '127.0.0.1');
  return { url, app, sink };
}

interface Answer {
  status: number;
  code: string | undefined;
}

describe.each(ADAPTERS)('risk signals cannot be aimed at a victim (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: AimedApi | undefined;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
  });
  afterEach(async () => {
    await api?.app.close();
    api = undefined;
  });
  afterAll(async () => {
    await issuer?.close();
  });

  const user = (sub: string): string => issuer.sign({ sub, roles: ['accountant'] });
  const service = (clientId: string, claims: Record<string, unknown> = {}): string =>
    issuer.sign({ sub: clientId, client_id: clientId, ...claims });

  async function send(
    path: string,
    from: string,
    authorization?: string,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const target = api as AimedApi;
    const response = await fetch(`${target.url}${path}`, {
      headers: {
        'x-forwarded-for': from,
        ...(authorization === undefined ? {} : { authorization }),
        ...headers,
      },
    });
    const text = await response.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: string }).code;
    } catch {
      code = undefined;
    }
    return { status: response.status, code };
  }
  const get = (path: string, from: string, token?: string): Promise<Answer> =>
    send(path, from, token === undefined ? undefined : `Bearer ${token}`);

  /** Sends `count` requests that authenticate as nobody: none, junk and forged tokens. */
  async function junk(from: string, count: number): Promise<number[]> {
    const forged = `${service('billing-worker').slice(0, -4)}AAAA`;
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const authorization = [undefined, 'Bearer junk', `Bearer ${forged}`][i % 3];
      statuses.push((await send('/whoami', from, authorization)).status);
    }
    return statuses;
  }

  it('lets the services and users at an address through after junk from it, and throttles only unauthenticated attempts', async () => {
    api = await startAimedApi(issuer, adapter);
    const shared = '198.51.100.7';
    const statuses = await junk(shared, 45);
    expect(statuses.every((status) => status === 401 || status === 429)).toBe(true);
    // 30 refused credentials: the address's failures are used up.
    expect(statuses.slice(-5)).toEqual([429, 429, 429, 429, 429]);

    // Everyone who proves who they are is served as before: no 403, no step-up, no 429.
    expect(await get('/whoami', shared, service('billing-worker'))).toEqual({
      status: 200,
      code: undefined,
    });
    expect(await get('/whoami', shared, service('reporting-service'))).toMatchObject({
      status: 200,
    });
    expect(await get('/whoami', shared, user('alice'))).toMatchObject({ status: 200 });

    // Attempts that do not authenticate stay throttled, with or without a token.
    expect(await send('/whoami', shared)).toEqual({ status: 429, code: 'ZT_RATE_LIMITED' });
    expect(await send('/whoami', shared, 'Bearer junk')).toEqual({
      status: 429,
      code: 'ZT_RATE_LIMITED',
    });
    // Another address is not throttled.
    expect(await send('/whoami', '198.51.100.8')).toMatchObject({ status: 401 });
  });

  it('still counts a principal’s own failures against it, and only against it', async () => {
    api = await startAimedApi(issuer, adapter);
    const office = '198.51.100.20';
    for (let i = 0; i < 20; i++)
      expect((await get('/forbidden', office, user('mallory'))).status).toBe(403);
    expect(await get('/whoami', office, user('mallory'))).toEqual({
      status: 401,
      code: 'ZT_STEP_UP_REQUIRED',
    });
    // From anywhere: the failures are mallory's, not her address's.
    expect(await get('/whoami', '198.51.100.21', user('mallory'))).toMatchObject({ status: 401 });
    // Her colleague at the same address is not stepped up.
    expect(await get('/whoami', office, user('alice'))).toMatchObject({ status: 200 });

    // A service's own failures refuse it (a service cannot step up), not its neighbours.
    for (let i = 0; i < 20; i++)
      expect((await get('/forbidden', office, service('valueOf'))).status).toBe(403);
    expect(await get('/whoami', office, service('valueOf'))).toEqual({
      status: 403,
      code: 'ZT_RISK_DENIED',
    });
    expect(await get('/whoami', office, service('billing-worker'))).toMatchObject({
      status: 200,
    });
  });

  it('answers principals, routes and addresses named like Object.prototype members as any other', async () => {
    api = await startAimedApi(issuer, adapter);
    const from = '198.51.100.30';
    for (const name of ['constructor', '__proto__', 'toString']) {
      const answer = await fetch(`${api.url}/whoami`, {
        headers: { 'x-forwarded-for': from, authorization: `Bearer ${user(name)}` },
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ kind: 'user', id: name });
    }
    for (const name of ['hasOwnProperty', 'valueOf']) {
      const answer = await fetch(`${api.url}/whoami`, {
        headers: { 'x-forwarded-for': from, authorization: `Bearer ${service(name)}` },
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ kind: 'service', id: name });
    }
    // A client that is not registered is unknown, whatever it is called.
    for (const name of ['constructor', '__proto__', 'toString'])
      expect(await get('/whoami', from, service(name))).toEqual({
        status: 401,
        code: 'ZT_CLIENT_UNKNOWN',
      });
    for (const path of ['/constructor', '/__proto__']) {
      expect(await get(path, from, user('alice'))).toMatchObject({ status: 200 });
      expect(await get(path, from, service('billing-worker'))).toMatchObject({ status: 200 });
    }
    // An address that is a prototype name is no address: the request is still answered.
    for (const name of PROTOTYPE_NAMES)
      expect((await get('/whoami', name, user('alice'))).status).toBe(200);
    await api.app.get(AuditService).flush();
    expect(api.sink.events.some((event) => event.code === 'ZT_RISK_UNAVAILABLE')).toBe(false);
  });

  it('never judges a service that proved its key (DPoP) on geography; a bearer service still is', async () => {
    api = await startAimedApi(issuer, adapter);
    const key: DpopKey = createDpopKey();
    const bound = service('billing-worker', { cnf: { jkt: key.jkt } });
    const proven = (from: string): Promise<Answer> =>
      send('/whoami', from, `DPoP ${bound}`, {
        dpop: createDpopProof({
          key,
          method: 'GET',
          url: `${api?.url ?? ''}/whoami`,
          accessToken: bound,
        }),
      });
    expect(await proven(LONDON)).toMatchObject({ status: 200 });
    // Changchun minutes after London: impossible for a person, a fail-over for a workload.
    expect(await proven(CHANGCHUN)).toMatchObject({ status: 200 });
    expect(await proven(LONDON)).toMatchObject({ status: 200 });

    const bearer = service('reporting-service');
    expect(await get('/whoami', LONDON, bearer)).toMatchObject({ status: 200 });
    expect(await get('/whoami', CHANGCHUN, bearer)).toEqual({
      status: 403,
      code: 'ZT_RISK_DENIED',
    });
  });
});

describe.runIf(redisReady)('a service’s learnt routes cannot lock it out (Redis)', () => {
  describe.each(ADAPTERS)('%s', (adapter) => {
    let issuer: TestIssuer;
    let api: AimedApi;
    const prefix = randomKeyPrefix();
    const redis = testRedisClient();

    beforeAll(async () => {
      await redis.connect();
      issuer = await TestIssuer.start();
      api = await startAimedApi(issuer, adapter, {
        type: 'redis',
        url: REDIS_URL,
        keyPrefix: prefix,
      });
    });
    afterAll(async () => {
      await api?.app.close();
      await issuer?.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    /** Removes this test's keys of one Redis type, as an evicting Redis may (whole keys). */
    async function evict(type: 'set' | 'string'): Promise<number> {
      let removed = 0;
      for (const key of await redis.keys(`${prefix}*`)) {
        if ((await redis.type(key)) !== type) continue;
        removed += await redis.del(key);
      }
      return removed;
    }

    /**
     * Waits (a bounded while) until the service's warm-up is recorded: learning is written after
     * each response, in several Redis round trips the next request could overtake.
     */
    async function warm(): Promise<void> {
      for (let i = 0; i < 400; i++) {
        for (const key of await redis.keys(`${prefix}*`)) {
          if ((await redis.type(key)) === 'set' && (await redis.sismember(key, '*warm')) === 1)
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }

    it('judges new routes again only after a new warm-up, whatever part of its history is lost', async () => {
      const token = issuer.sign({ sub: 'billing-worker', client_id: 'billing-worker' });
      const from = '198.51.100.40';
      const status = async (path: string): Promise<number> =>
        (
          await fetch(`${api.url}${path}`, {
            headers: { 'x-forwarded-for': from, authorization: `Bearer ${token}` },
          })
        ).status;
      // Warm-up: three successful calls.
      expect([await status('/a'), await status('/a'), await status('/b')]).toEqual([200, 200, 200]);
      await warm();
      // A route it never called is refused, however often it is tried.
      for (let i = 0; i < 5; i++) expect(await status('/c')).toBe(403);
      expect(await status('/a')).toBe(200);

      // The learnt routes are gone (evicted, expired): nothing is new until it has learnt again.
      expect(await evict('set')).toBeGreaterThan(0);
      expect(await status('/a')).toBe(200);
      expect(await status('/b')).toBe(200);
      expect(await status('/a')).toBe(200);
      await warm();
      // Learnt again: a new route is refused again, known ones are served.
      expect(await status('/c')).toBe(403);
      expect(await status('/b')).toBe(200);

      // The counters are gone instead: the routes, and the end of the warm-up, are still known.
      await evict('string');
      expect(await status('/a')).toBe(200);
      expect(await status('/c')).toBe(403);
    });
  });
});

describe.each(ADAPTERS)(
  'the demo’s billing-worker, with junk sent from its host (%s)',
  (adapter) => {
    let idp: TestIdentityProvider;
    let api: RunningApi;

    beforeAll(async () => {
      idp = await startTestIdentityProvider();
      api = await startDemoApi(
        { issuer: idp.issuer, adapter, riskMode: 'enforce' },
        { mtls: await readMutualTlsSettings(idp.dataDir) },
      );
    });
    afterAll(async () => {
      await api?.close();
      await idp?.stop();
    });

    it('keeps working after any local process sends junk tokens', async () => {
      // Every local process shares the worker's address (loopback).
      for (let i = 0; i < 25; i++)
        expect((await call(api, 'GET', '/invoices', { token: `junk-${i}` })).status).toBe(401);
      const moduleRef = await Test.createTestingModule({
        imports: [
          WorkerModule.register({
            issuer: idp.issuer,
            apiUrl: api.mtlsUrl ?? '',
            audience: DEMO_AUDIENCE,
            intervalMs: 60_000,
            tls: workloadTls(idp),
          }),
        ],
      }).compile();
      moduleRef.useLogger(false);
      try {
        const calls = await moduleRef.get(BillingWorker).runOnce();
        expect(calls.map((c) => c.status).every((status) => status < 400)).toBe(true);
      } finally {
        await moduleRef.close();
      }
    });

    it('never judges it on geography: its certificate-bound token over mTLS proves it', async () => {
      const token = await idp.serviceToken('billing-worker');
      const tls = workloadTls(idp);
      const from = (ip: string) => ({ token, tls, headers: { 'x-forwarded-for': ip } });
      expect((await call(api, 'GET', '/me', from(LONDON))).status).toBe(200);
      // Changchun minutes after London: a fail-over, not a stolen token.
      expect((await call(api, 'GET', '/me', from(CHANGCHUN))).status).toBe(200);
    });
  },
);
