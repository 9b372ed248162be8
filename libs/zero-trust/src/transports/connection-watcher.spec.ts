import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import type { ZeroTrustError } from '../errors/zero-trust.error.js';
import type { Principal } from '../identity/principal.interface.js';
import { RevocationService } from '../identity/revocation.service.js';
import { MemoryRevocationStore } from '../stores/memory/memory-revocation.store.js';
import type { RevocableToken, RevocationStore } from '../stores/revocation-store.interface.js';
import { TestIssuer } from '../testing/test-issuer.js';
import { ZeroTrustModule } from '../zero-trust.module.js';
import { ConnectionWatcher } from './connection-watcher.js';

/*
 * The watcher of long-lived connections under load: thousands of connections cost one timer each
 * (cleared when they end) and one store call per distinct token at each re-check, a few at a
 * time; a re-check never overlaps the last; a failing store closes what it could not check.
 */

/** The in-process store, counting the checks and how many run at once; it can be made to fail. */
class CountingStore implements RevocationStore {
  readonly inner = new MemoryRevocationStore();
  checks = 0;
  inFlight = 0;
  maxInFlight = 0;
  failing = false;

  revokeToken(jti: string, expiresAt: number): Promise<void> {
    return this.inner.revokeToken(jti, expiresAt);
  }
  revokeIssuedBefore(...args: Parameters<RevocationStore['revokeIssuedBefore']>): Promise<void> {
    return this.inner.revokeIssuedBefore(...args);
  }
  async isRevoked(token: RevocableToken): Promise<boolean> {
    this.checks += 1;
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.failing) throw new Error('store down');
      return await this.inner.isRevoked(token);
    } finally {
      this.inFlight -= 1;
    }
  }
}

const now = () => Math.floor(Date.now() / 1000);

function principal(jti: string, sub: string, exp = now() + 600): Principal {
  return { subject: sub, id: sub, token: { jti, iat: now() - 1, exp } } as unknown as Principal;
}

/** Connections watched, and the refusal each one was ended with. */
function connections(watcher: ConnectionWatcher) {
  const ended = new Map<string, string>();
  const stops: (() => void)[] = [];
  return {
    ended,
    watch(name: string, who: Principal): void {
      const context = {
        requestId: name,
        resources: new Map(),
      } as unknown as ZeroTrustRequestContext;
      stops.push(
        watcher.watch({
          principal: who,
          context,
          end: (refusal: ZeroTrustError) => void ended.set(name, refusal.code),
        }),
      );
    },
    stopAll: () => stops.splice(0).forEach((stop) => stop()),
  };
}

describe('ConnectionWatcher', () => {
  let issuer: TestIssuer;
  let app: INestApplication;
  let store: CountingStore;
  let watcher: ConnectionWatcher;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    store = new CountingStore();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: issuer.url,
          audience: issuer.audience,
          store: { type: 'custom', revocations: store },
          // Re-checks are run by the tests, not by the clock.
          connections: { recheckInterval: 3600 },
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    watcher = app.get(ConnectionWatcher);
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });
  afterEach(() => {
    store.checks = 0;
    store.maxInFlight = 0;
    store.failing = false;
  });

  it('checks 10,000 connections of 100 tokens with 100 store calls, at most 8 at once, and never two re-checks at once', async () => {
    const open = connections(watcher);
    // Spied on, not replaced: the timers are real.
    const set = vi.spyOn(globalThis, 'setTimeout');
    const cleared = vi.spyOn(globalThis, 'clearTimeout');
    const tokens = Array.from({ length: 100 }, () => randomUUID());
    for (let i = 0; i < 10_000; i++)
      open.watch(`c${i}`, principal(tokens[i % 100] ?? '', `u${i % 100}`));
    expect(watcher.size).toBe(10_000);
    // One expiry timer per connection (and one re-check interval for them all).
    expect(set.mock.calls.filter(([, delay]) => Number(delay) > 500_000)).toHaveLength(10_000);
    await Promise.all([watcher.checkAll(), watcher.checkAll()]);
    expect(store.checks).toBe(100);
    expect(store.maxInFlight).toBeLessThanOrEqual(8);
    expect(open.ended.size).toBe(0);
    open.stopAll();
    expect(watcher.size).toBe(0);
    // Every expiry timer armed was cleared.
    const armed = set.mock.results.filter((_, i) => Number(set.mock.calls[i]?.[1]) > 500_000);
    const clearedTimers = new Set(cleared.mock.calls.map(([timer]) => timer));
    expect(armed.filter(({ value }) => !clearedTimers.has(value as never))).toEqual([]);
    set.mockRestore();
    cleared.mockRestore();
  });

  it('ends the connections of a token revoked behind the service at the next re-check, and only them', async () => {
    const open = connections(watcher);
    const [revoked, kept] = [randomUUID(), randomUUID()];
    for (let i = 0; i < 50; i++) open.watch(`r${i}`, principal(revoked, 'alice'));
    open.watch('kept', principal(kept, 'alice'));
    await store.inner.revokeToken(revoked, now() + 600);
    expect(open.ended.size).toBe(0);
    await watcher.checkAll();
    expect(open.ended.size).toBe(50);
    expect(new Set(open.ended.values())).toEqual(new Set(['ZT_TOKEN_REVOKED']));
    expect(watcher.size).toBe(1);
    open.stopAll();
  });

  it('ends at once the connections a revocation made through the service covers', async () => {
    const open = connections(watcher);
    const sub = `user-${randomUUID()}`;
    open.watch('old', principal(randomUUID(), sub));
    open.watch('other', principal(randomUUID(), `user-${randomUUID()}`));
    await app.get(RevocationService).revokeSubject(sub);
    expect(open.ended).toEqual(new Map([['old', 'ZT_TOKEN_REVOKED']]));
    open.stopAll();
  });

  it('fails closed: a store that cannot answer a re-check ends the connections it could not check', async () => {
    const open = connections(watcher);
    open.watch('a', principal(randomUUID(), 'bob'));
    store.failing = true;
    await watcher.checkAll();
    expect(open.ended).toEqual(new Map([['a', 'ZT_STORE_UNAVAILABLE']]));
    expect(watcher.size).toBe(0);
  });

  it('ends a connection whose token has expired at once, and keeps one that expires in 30 days', async () => {
    const open = connections(watcher);
    open.watch('expired', principal(randomUUID(), 'bob', now() - 1));
    // Past the longest timer delay (24.8 days): it must not fire at once.
    open.watch('long', principal(randomUUID(), 'bob', now() + 30 * 86_400));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(open.ended).toEqual(new Map([['expired', 'ZT_TOKEN_EXPIRED']]));
    expect(watcher.size).toBe(1);
    open.stopAll();
  });
});
