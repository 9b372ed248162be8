import { Module } from '@nestjs/common';
import { RevocationService, ZeroTrustModule, type ZeroTrustStoreOptions } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenApp, ProbeController, type ListeningApp } from './support/nest-app.js';
import { randomKeyPrefix, redisReady, REDIS_URL } from './support/redis.js';

/*
 * Revocation by identity provider session (`sid`) and by grant, and the refresh gap: a token
 * issued after a cutoff from a login before it (its `auth_time`) is refused too. Two instances,
 * one on Express and one on Fastify, share Redis: what one revokes, the other refuses at once.
 */
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer?.close();
});

function boot(
  store: ZeroTrustStoreOptions,
  adapter: 'express' | 'fastify',
  grantClaim: string | null = 'grant_id',
): Promise<ListeningApp> {
  const principals = grantClaim === null ? {} : { grantClaim };
  const options = { issuer: issuer.url, audience: issuer.audience, store, principals };
  @Module({ imports: [ZeroTrustModule.forRoot(options)], controllers: [ProbeController] })
  class ProbeModule {}
  return listenApp(ProbeModule, adapter);
}

async function probe(url: string, token: string): Promise<{ status: number; code?: string }> {
  const response = await fetch(`${url}/probe`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status === 200) return { status: 200 };
  const { code } = (await response.json()) as { code?: string };
  return { status: response.status, code };
}

const now = (): number => Math.floor(Date.now() / 1000);
const REVOKED = { status: 401, code: 'ZT_TOKEN_REVOKED' };

describe.runIf(redisReady)('revocation by session, grant and subject across two instances', () => {
  let a: ListeningApp;
  let b: ListeningApp;

  beforeAll(async () => {
    const store: ZeroTrustStoreOptions = {
      type: 'redis',
      url: REDIS_URL,
      keyPrefix: randomKeyPrefix(),
    };
    [a, b] = await Promise.all([boot(store, 'express'), boot(store, 'fastify')]);
  });
  afterAll(async () => {
    await Promise.all([a?.app.close(), b?.app.close()]);
  });

  it('refuses every token of a revoked session at the other instance, and no other session', async () => {
    const token = (sid: string) => issuer.sign({ sub: 'bob', sid, auth_time: now() - 60 });
    const ended = token('sid-ended');
    const other = token('sid-other');
    expect(await probe(b.url, ended)).toEqual({ status: 200 });
    await a.app.get(RevocationService).revokeSession('sid-ended');
    expect(await probe(b.url, ended)).toEqual(REVOKED);
    expect(await probe(a.url, ended)).toEqual(REVOKED);
    expect(await probe(b.url, other)).toEqual({ status: 200 });
  });

  it('refuses a token refreshed after the cutoff from a login before it, not a new login', async () => {
    const cutoff = now() - 10;
    await b.app.get(RevocationService).revokeSession('sid-refreshed', cutoff);
    // Issued now (after the cutoff) by a refresh of a login that happened before it.
    const refreshed = issuer.sign({ sub: 'bob', sid: 'sid-refreshed', auth_time: cutoff - 50 });
    expect(await probe(a.url, refreshed)).toEqual(REVOKED);
    const relogged = issuer.sign({ sub: 'bob', sid: 'sid-refreshed', auth_time: cutoff + 5 });
    expect(await probe(a.url, relogged)).toEqual({ status: 200 });
  });

  it('closes the refresh gap of a subject revocation too', async () => {
    const cutoff = now() - 10;
    await a.app.get(RevocationService).revokeSubject('dora', cutoff);
    expect(await probe(b.url, issuer.sign({ sub: 'dora', auth_time: cutoff - 100 }))).toEqual(
      REVOKED,
    );
    expect(await probe(b.url, issuer.sign({ sub: 'dora', auth_time: cutoff + 1 }))).toEqual({
      status: 200,
    });
    // Without auth_time only iat counts: a token issued after the cutoff is a new one.
    expect(await probe(b.url, issuer.sign({ sub: 'dora' }))).toEqual({ status: 200 });
  });

  it('refuses every token of a revoked grant (principals.grantClaim) and only those', async () => {
    const revoked = issuer.sign({ sub: 'erin', grant_id: 'grant-1' });
    const kept = issuer.sign({ sub: 'erin', grant_id: 'grant-2' });
    await b.app.get(RevocationService).revokeGrant('grant-1');
    expect(await probe(a.url, revoked)).toEqual(REVOKED);
    expect(await probe(a.url, kept)).toEqual({ status: 200 });
  });

  it('does not let a session id pass for a subject or a grant (separate namespaces)', async () => {
    await a.app.get(RevocationService).revokeSession('frank');
    expect(await probe(b.url, issuer.sign({ sub: 'frank', grant_id: 'frank' }))).toEqual({
      status: 200,
    });
  });
});

describe('RevocationService input', () => {
  it('refuses a grant revocation when no claim names grants, and empty ids', async () => {
    const { app } = await boot({ type: 'memory' }, 'express', null);
    try {
      const revocations = app.get(RevocationService);
      await expect(revocations.revokeGrant('grant-1')).rejects.toThrow(/principals\.grantClaim/);
      await expect(revocations.revokeSession('')).rejects.toThrow(TypeError);
      await expect(revocations.revokeSession('s', Number.NaN)).rejects.toThrow(TypeError);
    } finally {
      await app.close();
    }
  });

  it('ignores a sid claim that is not a string: it names no session', async () => {
    const { app, url } = await boot({ type: 'memory' }, 'fastify');
    try {
      await app.get(RevocationService).revokeSession('42');
      // Both issued before the revocation, so only the sid's type tells them apart (a token
      // signed after the second rolled over would pass the cutoff whatever its sid).
      const iat = Math.floor(Date.now() / 1000) - 5;
      expect(await probe(url, issuer.sign({ sub: 'gus', sid: 42, iat }))).toEqual({ status: 200 });
      expect(await probe(url, issuer.sign({ sub: 'gus', sid: '42', iat }))).toEqual(REVOKED);
    } finally {
      await app.close();
    }
  });
});
