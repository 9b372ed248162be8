import {
  Controller,
  ForbiddenException,
  Get,
  Injectable,
  type INestApplication,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { AuditSink } from '../audit/audit-sink.interface.js';
import type { DecisionEvent } from '../audit/decision-event.interface.js';
import { Authenticated, Can, Public, ReportOnly } from '../routes/decorators.js';
import type { ZeroTrustModuleOptions } from '../options/zero-trust-options.interface.js';
import type { SharedStateStore } from '../stores/shared-state-store.interface.js';
import { MemoryRevocationStore } from '../stores/memory/memory-revocation.store.js';
import { MemorySharedStateStore } from '../stores/memory/memory-shared-state.store.js';
import { contextOf } from '../context/request-context.js';
import { createTestPrincipal } from '../testing/index.js';
import { TestIssuer } from '../testing/test-issuer.js';
import { ZeroTrustModule } from '../zero-trust.module.js';
import { RiskEngine, RiskSignalProvider } from './risk.engine.js';
import type { RiskSignal, RiskSignalInput } from './risk.types.js';

const AUDIENCE = 'https://risk.test.local';

/** A signal that counts its evaluations and scores what the `x-score` header says. */
class HeaderSignal implements RiskSignal {
  readonly name = 'header';
  evaluations = 0;
  evaluate({ request }: RiskSignalInput) {
    this.evaluations++;
    const value = Number(request.headers['x-score'] ?? 0);
    return value > 0 ? { signal: this.name, score: value, reason: 'asked by the test' } : undefined;
  }
}

@RiskSignalProvider()
@Injectable()
class InjectedSignal implements RiskSignal {
  readonly name = 'injected';
  evaluate({ request }: RiskSignalInput) {
    return request.headers['x-injected'] === 'yes'
      ? { signal: this.name, score: 100, reason: 'registered through DI', event: 'test_injected' }
      : undefined;
  }
}

/** A store whose backend is down: every call rejects, as a Redis store would. */
class UnreachableStore implements SharedStateStore {
  private down(): Promise<never> {
    return Promise.reject(new Error('connect ECONNREFUSED'));
  }
  claimOnce = () => this.down();
  increment = () => this.down();
  get = () => this.down();
  set = () => this.down();
  addToSet = () => this.down();
  hasMember = () => this.down();
  pushCapped = () => this.down();
  list = () => this.down();
  ping = () => this.down();
}

/** A store that answers nothing until released: shows which calls are in flight together. */
class GatedStore implements SharedStateStore {
  readonly waiting: { key: string; release: () => void }[] = [];
  private hold<T>(key: string, value: T): Promise<T> {
    return new Promise((resolve) => this.waiting.push({ key, release: () => resolve(value) }));
  }
  releaseAll(): void {
    for (const call of this.waiting.splice(0)) call.release();
  }
  claimOnce = (key: string) => this.hold(key, true);
  increment = (key: string) => this.hold(key, 1);
  get = (key: string) => this.hold<string | undefined>(key, undefined);
  set = (key: string) => this.hold<void>(key, undefined);
  addToSet = (key: string) => this.hold(key, true);
  hasMember = (key: string) => this.hold(key, false);
  pushCapped = (key: string) => this.hold<void>(key, undefined);
  list = (key: string) => this.hold<string[]>(key, []);
  ping = () => Promise.resolve();
}

@Controller()
class ProbeController {
  @Get('open')
  @Public()
  open(): string {
    return 'open';
  }

  @Get('me')
  @Authenticated()
  me(): string {
    return 'me';
  }

  @Get('reports')
  @Can('read', 'Report')
  reports(): string {
    return 'reports';
  }

  @Get('trial')
  @Authenticated()
  @ReportOnly()
  trial(): string {
    return 'trial';
  }

  @Get('forbidden')
  @Authenticated()
  forbidden(): never {
    throw new ForbiddenException();
  }
}

describe('RiskEngine in a module', () => {
  let issuer: TestIssuer;
  let app: INestApplication | undefined;
  let url = '';
  let events: DecisionEvent[] = [];
  const header = new HeaderSignal();

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
  });
  afterAll(async () => {
    await issuer.close();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(options: Partial<ZeroTrustModuleOptions>): Promise<void> {
    events = [];
    header.evaluations = 0;
    const moduleRef = await Test.createTestingModule({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: issuer.url,
          audience: AUDIENCE,
          audit: { sink: { write: (event) => void events.push(event) } },
          abilities: {
            // Reports only at low risk: a rule on env.risk.
            user: (_principal, env, { can }) => {
              if ((env.risk ?? 100) <= 20) can('read', 'Report');
            },
          },
          ...options,
        }),
      ],
      controllers: [ProbeController],
      providers: [InjectedSignal],
    })
      .overrideProvider(AuditSink)
      .useValue({ write: (event: DecisionEvent) => void events.push(event) })
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  }

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      headers: { authorization: `Bearer ${issuer.sign({ sub: 'alice' })}`, ...headers },
    });

  it('assesses a request once, shared by env.risk in the guard and by the interceptor', async () => {
    await start({ risk: { signals: [header] } });
    expect((await get('/reports', { 'x-score': '10' })).status).toBe(200);
    expect(header.evaluations).toBe(1);
    expect((await get('/reports', { 'x-score': '30' })).status).toBe(403);
    expect(header.evaluations).toBe(2);
    // A route whose policy reads no env is assessed by the interceptor only; public ones never.
    expect((await get('/me')).status).toBe(200);
    expect((await get('/open', { 'x-score': '100' })).status).toBe(200);
    expect(header.evaluations).toBe(3);
  });

  it('runs signals registered by options and by @RiskSignalProvider', async () => {
    await start({ risk: { signals: [header] } });
    const response = await get('/me', { 'x-injected': 'yes' });
    expect(response.status).toBe(403);
    expect(events.find((e) => e.action === 'test_injected')).toMatchObject({
      decision: 'deny',
      risk: { score: 100 },
    });
  });

  it('fails closed with 503 when the store is down, unless told to ignore errors', async () => {
    const state = new UnreachableStore();
    const store = { type: 'custom' as const, revocations: new MemoryRevocationStore(), state };
    await start({ store, risk: {} });
    const response = await get('/me');
    expect(response.status).toBe(503);
    expect(((await response.json()) as { code: string }).code).toBe('ZT_STORE_UNAVAILABLE');
    await app?.close();
    await start({ store, risk: { onError: 'ignore' } });
    expect((await get('/me')).status).toBe(200);
  });

  it('fails closed with 503 when a signal throws on the synchronous path, unless told to ignore errors', async () => {
    const throwing: RiskSignal = {
      name: 'throwing',
      evaluate: () => {
        throw new Error('signal bug');
      },
    };
    // Device, usage and failures answer from the in-memory store without a promise.
    await start({ risk: { device: {}, usage: {}, failures: {}, signals: [throwing] } });
    const response = await get('/me');
    expect(response.status).toBe(503);
    const body = JSON.stringify(await response.json());
    expect(body).toContain('ZT_RISK_UNAVAILABLE');
    expect(body).not.toContain('signal bug');
    await app?.close();
    await start({ risk: { onError: 'ignore', signals: [throwing] } });
    expect((await get('/me')).status).toBe(200);
  });

  it('starts the built-in signals together: their store calls are in flight at once', async () => {
    const state = new GatedStore();
    const store = { type: 'custom' as const, revocations: new MemoryRevocationStore(), state };
    await start({ store, risk: { device: {}, usage: {}, failures: {} } });
    const response = get('/me');
    const signalsWaiting = () =>
      [...new Set(state.waiting.map(({ key }) => key.split(':')[2] ?? ''))].sort((a, b) =>
        a.localeCompare(b),
      );
    for (let i = 0; i < 10_000 && signalsWaiting().length < 3; i++)
      await new Promise((resolve) => setImmediate(resolve));
    const releasing = setInterval(() => state.releaseAll(), 1);
    try {
      expect(signalsWaiting()).toEqual(['device', 'failures', 'usage']);
      expect((await response).status).toBe(200);
    } finally {
      await response;
      clearInterval(releasing);
    }
  });

  it('counts a principal’s own 403s into its failure burst, never failures nobody owns', async () => {
    await start({ risk: { failures: { threshold: 3 }, signals: [header] } });
    // Refused credentials from the same address are nobody's failures.
    for (let i = 0; i < 5; i++) {
      await fetch(`${url}/me`, { headers: { authorization: 'Bearer nope' } });
      await fetch(`${url}/me`);
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect((await get('/me')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get('/forbidden')).status).toBe(403);
    await new Promise((resolve) => setImmediate(resolve));
    const response = await get('/me');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer error="insufficient_user_authentication", error_description="[^"]+", max_age=300$/,
    );
  });

  it('lends env.country from the geolocation signal to ability definitions', async () => {
    const countries: Record<string, string> = { '127.0.0.1': 'FR' };
    await start({
      risk: { geolocation: { database: { locate: (ip) => ({ country: countries[ip] }) } } },
      abilities: {
        user: (_principal, env, { can }) => {
          if (env.country === 'FR') can('read', 'Report');
        },
      },
    });
    expect((await get('/reports')).status).toBe(200);
    countries['127.0.0.1'] = 'DE';
    expect((await get('/reports')).status).toBe(403);
  });

  it('only reports risk decisions on a @ReportOnly route', async () => {
    await start({ risk: { mode: 'enforce', signals: [header] } });
    expect((await get('/trial', { 'x-score': '100' })).status).toBe(200);
    expect(events.find((e) => e.code === 'ZT_RISK_DENIED')).toMatchObject({
      decision: 'would-deny',
      mode: 'report-only',
    });
    expect((await get('/trial', { 'x-score': '50' })).status).toBe(200);
    expect(events.at(-1)).toMatchObject({
      action: 'authn_step_up_required',
      decision: 'would-step-up',
    });
    expect((await get('/me', { 'x-score': '100' })).status).toBe(403);
  });

  it('does nothing when the risk option is absent', async () => {
    await start({});
    expect((await get('/me', { 'x-injected': 'yes' })).status).toBe(200);
    expect(events.some((e) => e.risk !== undefined)).toBe(false);
  });

  it('assesses a request once, alike through the memory store and any other store', async () => {
    const assess = async (state?: SharedStateStore) => {
      const store =
        state === undefined
          ? {}
          : { store: { type: 'custom' as const, revocations: new MemoryRevocationStore(), state } };
      await start({ ...store, risk: { device: {}, usage: {}, failures: {}, signals: [header] } });
      const engine = app?.get(RiskEngine);
      const request = { method: 'GET', headers: { 'x-score': '30' } };
      const context = contextOf(request, '/me');
      context.principal = createTestPrincipal({ id: 'alice' });
      const assessment = engine?.assess(request, context);
      // Kept on the request's context: the same promise again.
      expect(engine?.assess(request, context)).toBe(assessment);
      const result = await assessment;
      await app?.close();
      app = undefined;
      return result;
    };
    const inMemory = await assess();
    expect(inMemory).toMatchObject({ score: 30, reasons: [{ signal: 'header' }] });
    class Subclassed extends MemorySharedStateStore {}
    expect(await assess(new Subclassed())).toEqual(inMemory);
  });
});
