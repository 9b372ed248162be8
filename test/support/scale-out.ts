import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { SkipThrottle, ThrottlerModule } from '@nestjs/throttler';
import {
  Public,
  RevocationService,
  SharedStateStore,
  ZeroTrustModule,
  type ZeroTrustModuleOptions,
  type ZeroTrustStoreOptions,
} from 'nestjs-zero-trust';
import { ZeroTrustHealthIndicator } from 'nestjs-zero-trust/health';
import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { SharedStateThrottlerStorage, ZeroTrustThrottlerModule } from 'nestjs-zero-trust/throttler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from './demo-api.js';
import { listenApp, ProbeController, type ListeningApp } from './nest-app.js';

/*
 * An API instance for the scale-out suites: `GET /probe` (authenticated, rate limited per
 * principal by the shared store) and `GET /health/store` (the store's health indicator).
 */

// Not rate limited: counting its callers would need the store it reports on.
@Controller('health')
@SkipThrottle()
class StoreHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly zeroTrust: ZeroTrustHealthIndicator,
  ) {}

  @Get('store')
  @Public()
  @HealthCheck()
  store() {
    return this.health.check([() => this.zeroTrust.store()]);
  }
}

/**
 * One API instance on `adapter` with `store`, `limit` requests a minute per principal, and
 * `more` module options.
 */
export async function scaleOutApp(
  issuer: TestIssuer,
  store: ZeroTrustStoreOptions,
  adapter: 'express' | 'fastify',
  limit = 1000,
  more: Partial<ZeroTrustModuleOptions> = {},
): Promise<ListeningApp> {
  @Module({
    imports: [
      TerminusModule,
      ZeroTrustModule.forRoot({ issuer: issuer.url, audience: issuer.audience, store, ...more }),
      // Rate limits per principal, counted in the shared store.
      ThrottlerModule.forRootAsync({
        inject: [SharedStateStore],
        useFactory: (state: SharedStateStore) => ({
          throttlers: [{ ttl: 60_000, limit }],
          storage: new SharedStateThrottlerStorage(state),
        }),
      }),
      ZeroTrustThrottlerModule,
    ],
    controllers: [ProbeController, StoreHealthController],
    providers: [ZeroTrustHealthIndicator],
  })
  class ScaleOutApp {}
  return listenApp(ScaleOutApp, adapter);
}

/** The status of `GET /probe` with `token`. */
export async function probe(url: string, token: string): Promise<number> {
  const response = await fetch(`${url}/probe`, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

/** The store's health as `GET /health/store` reports it (`status` plus details). */
export async function storeHealth(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/health/store`);
  const body = (await response.json()) as {
    details?: { zero_trust_store?: Record<string, unknown> };
  };
  // Anything else (an error answer) is returned as it is, to be seen in a failed assertion.
  return body.details?.zero_trust_store ?? { answer: response.status, body };
}

/** `jti` and `exp` of a token (not verified). */
export function claimsOf(token: string): { jti: string; exp: number } {
  const payload = Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8');
  return JSON.parse(payload) as { jti: string; exp: number };
}

/** One request's outcome during a failover, `at` ms after the kill. */
export interface Observation {
  at: number;
  app: number;
  token: 'valid' | 'revoked';
  status: number;
}

/**
 * Sends the valid and the revoked token to every app, round after round, until every app has
 * refused the valid one at least once and then served it `settled` rounds in a row (or
 * `timeoutMs` passed); every outcome, in order.
 */
export async function observeFailover(
  urls: readonly string[],
  valid: string,
  revoked: string,
  since: number,
  timeoutMs = 30_000,
  settled = 5,
): Promise<Observation[]> {
  const seen: Observation[] = [];
  const streak = urls.map(() => 0);
  const refused = urls.map(() => false);
  while (Date.now() - since < timeoutMs) {
    const round = await Promise.all(
      urls.flatMap((url, app) =>
        (['valid', 'revoked'] as const).map(async (token) => ({
          app,
          token,
          status: await probe(url, token === 'valid' ? valid : revoked),
          at: Date.now() - since,
        })),
      ),
    );
    seen.push(...round);
    for (const { app, token, status } of round) {
      if (token !== 'valid') continue;
      if (status !== 200) refused[app] = true;
      streak[app] = status === 200 && refused[app] ? (streak[app] ?? 0) + 1 : 0;
    }
    if (streak.every((n) => n >= settled)) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return seen;
}

/** Per app: ms from the kill to the first of the valid token's last run of 200s. */
export function recoveryTimes(seen: readonly Observation[], apps: number): number[] {
  return Array.from({ length: apps }, (_, app) => {
    const valid = seen.filter((o) => o.app === app && o.token === 'valid');
    const lastRefusal = valid.findLastIndex((o) => o.status !== 200);
    return valid[lastRefusal + 1]?.at ?? Number.NaN;
  });
}

const LIMIT = 30;

/**
 * Three API instances on each adapter sharing `storeOf()`: a revocation at one is refused at the
 * other two within one second, and one per-principal rate limit holds across the three.
 */
export function threeInstances(
  topology: string,
  storeOf: () => ZeroTrustStoreOptions,
  issuerOf: () => TestIssuer,
): void {
  describe.each(ADAPTERS)(`three API instances on %s sharing the ${topology}`, (adapter) => {
    let apps: ListeningApp[] = [];
    beforeAll(async () => {
      const store = storeOf();
      apps = await Promise.all([0, 1, 2].map(() => scaleOutApp(issuerOf(), store, adapter, LIMIT)));
      // On a loaded machine a topology may take a while to serve a new client: start once it does.
      const until = Date.now() + 60_000;
      for (const { url } of apps)
        while ((await storeHealth(url)).status !== 'up' && Date.now() < until)
          await new Promise((resolve) => setTimeout(resolve, 200));
    }, 120_000);
    afterAll(async () => {
      await Promise.all(apps.map(({ app }) => app.close()));
    });

    it('enforces at the two others, within one second, a revocation made at one', async () => {
      const token = issuerOf().sign({ sub: `victim-${adapter}` });
      // Each instance has verified the token and holds it in its cache.
      for (const { url } of apps) expect(await probe(url, token)).toBe(200);
      const { jti, exp } = claimsOf(token);
      await apps[0]?.app.get(RevocationService).revokeToken(jti, exp);
      const revokedAt = Date.now();
      const passed: number[] = []; // requests still served at each other instance
      for (const { url } of apps.slice(1)) {
        let count = 0;
        let status = await probe(url, token);
        while (status === 200 && Date.now() - revokedAt < 1000) {
          count += 1;
          status = await probe(url, token);
        }
        passed.push(count);
        expect(status).toBe(401);
      }
      expect(Date.now() - revokedAt).toBeLessThanOrEqual(1000);
      console.info(
        `[${topology}] ${adapter}: requests served after the revocation: ${passed.join(', ')}`,
      );
    });

    it('holds one per-principal rate limit across the three (within 10%)', async () => {
      const token = issuerOf().sign({ sub: `busy-${adapter}` });
      // Three times the limit, spread over the instances, ten at a time.
      const statuses: number[] = [];
      for (let batch = 0; batch < (3 * LIMIT) / 10; batch += 1)
        statuses.push(
          ...(await Promise.all(
            Array.from({ length: 10 }, (_, i) => probe(apps[i % 3]?.url ?? '', token)),
          )),
        );
      const served = statuses.filter((status) => status === 200).length;
      console.info(
        `[${topology}] ${adapter}: ${served} of ${statuses.length} served, limit ${LIMIT}`,
      );
      expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
      expect(Math.abs(served - LIMIT)).toBeLessThanOrEqual(LIMIT * 0.1);
      for (const { url } of apps) expect(await probe(url, token)).toBe(429);
    });
  });
}
