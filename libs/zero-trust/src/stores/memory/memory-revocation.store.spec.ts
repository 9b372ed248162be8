import { StoreFullError } from '../../errors/zero-trust.error.js';
import { describe, expect, it } from 'vitest';
import { MemoryRevocationStore } from './memory-revocation.store.js';

describe('MemoryRevocationStore', () => {
  it('revokes one jti, and every token of a subject issued up to a time', async () => {
    const store = new MemoryRevocationStore({ now: () => 1000 });
    await store.revokeToken('j1', 2000);
    await store.revokeIssuedBefore('sub', 'bob', 1000, 2000);
    expect(await store.isRevoked({ jti: 'j1', sub: 'alice', iat: 990 })).toBe(true);
    expect(await store.isRevoked({ jti: 'j2', sub: 'alice', iat: 990 })).toBe(false);
    expect(await store.isRevoked({ jti: 'j3', sub: 'bob', iat: 1000 })).toBe(true);
    expect(await store.isRevoked({ jti: 'j4', sub: 'bob', iat: 1001 })).toBe(false);
  });

  it('revokes by IdP session and by grant, and a token refreshed from a login before the cutoff', async () => {
    const store = new MemoryRevocationStore({ now: () => 1000 });
    await store.revokeIssuedBefore('sid', 's-1', 1000, 2000);
    await store.revokeIssuedBefore('grant', 'g-1', 1000, 2000);
    const later = { jti: 'j', sub: 'bob', iat: 1001 };
    expect(await store.isRevoked({ ...later, sid: 's-1', iat: 999 })).toBe(true);
    expect(await store.isRevoked({ ...later, sid: 's-1', authTime: 900 })).toBe(true);
    expect(await store.isRevoked({ ...later, sid: 's-1', authTime: 1001 })).toBe(false);
    expect(await store.isRevoked({ ...later, sid: 's-2', iat: 999 })).toBe(false);
    expect(await store.isRevoked({ ...later, grant: 'g-1', authTime: 1000 })).toBe(true);
    // Each scope is its own namespace: a subject named like a revoked session is not revoked.
    expect(await store.isRevoked({ jti: 'k', sub: 's-1', iat: 999 })).toBe(false);
  });

  it('never shortens an existing revocation', async () => {
    const store = new MemoryRevocationStore({ now: () => 1000 });
    await store.revokeIssuedBefore('sub', 'bob', 1500, 3000);
    await store.revokeIssuedBefore('sub', 'bob', 1200, 2000);
    expect(await store.isRevoked({ jti: 'x', sub: 'bob', iat: 1400 })).toBe(true);
  });

  it('drops entries no valid token can match any more', async () => {
    let now = 1000;
    const store = new MemoryRevocationStore({ now: () => now });
    await store.revokeToken('old', 1100);
    await store.revokeIssuedBefore('sub', 'carol', 1000, 1100);
    now = 1200;
    await store.revokeToken('new', 2000);
    expect(await store.isRevoked({ jti: 'old', sub: 'x', iat: 0 })).toBe(false);
    expect(await store.isRevoked({ jti: 'y', sub: 'carol', iat: 900 })).toBe(false);
    expect(await store.isRevoked({ jti: 'new', sub: 'x', iat: 0 })).toBe(true);
  });

  it('never drops a live revocation: a full store refuses new ones until entries expire', async () => {
    let now = 1000;
    const store = new MemoryRevocationStore({ maxEntries: 2, now: () => now });
    await store.revokeToken('a', 1100);
    await store.revokeIssuedBefore('sub', 'bob', 1000, 1200);
    const refused = await store.revokeToken('c', 1300).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreFullError);
    expect(refused).toMatchObject({ code: 'ZT_STORE_FULL', concern: 'revocation', limit: 2 });
    expect((refused as StoreFullError).retryAfter).toBe(101);
    await expect(store.revokeIssuedBefore('sub', 'carol', 1000, 1200)).rejects.toBeInstanceOf(
      StoreFullError,
    );
    // Extending what is already revoked needs no room; everything revoked stays revoked.
    await store.revokeToken('a', 1150);
    await store.revokeIssuedBefore('sub', 'bob', 1010, 1250);
    expect(await store.isRevoked({ jti: 'a', sub: 'x', iat: 0 })).toBe(true);
    expect(await store.isRevoked({ jti: 'z', sub: 'bob', iat: 1005 })).toBe(true);
    now = 1151; // a's token has expired: its entry goes, and c fits
    await store.revokeToken('c', 1300);
    expect(await store.isRevoked({ jti: 'c', sub: 'x', iat: 0 })).toBe(true);
    expect(await store.isRevoked({ jti: 'a', sub: 'x', iat: 0 })).toBe(false);
    await expect(store.revokeToken('d', 1300)).rejects.toBeInstanceOf(StoreFullError);
  });
});
