import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { SkipThrottle, ThrottlerModule } from '@nestjs/throttler';
import {
  Public,
  SharedStateStore,
  ZeroTrustModule,
  type ZeroTrustModuleOptions,
  type ZeroTrustStoreOptions,
} from 'nestjs-zero-trust';
import { ZeroTrustHealthIndicator } from 'nestjs-zero-trust/health';
import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { SharedStateThrottlerStorage, ZeroTrustThrottlerModule } from 'nestjs-zero-trust/throttler';
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
