import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  /** Epoch milliseconds, or `undefined` for no expiry. */
  expiresAt: number | undefined;
}

/** Models whose records carry a `grantId` and are revoked together with their grant. */
const GRANT_BOUND_MODELS = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

const SWEEP_EVERY_WRITES = 200;

/** What the store remembers of a grant, even after the grant and its tokens are gone. */
export interface GrantRecord {
  readonly accountId: string;
  readonly clientId: string | undefined;
  /** The session id (`sid`) the grant's codes and tokens carry, when they carry one. */
  readonly sid: string | undefined;
}

/** An End-User session at the IdP. */
export interface SessionRecord {
  /** The session's storage id. */
  readonly id: string;
  readonly accountId: string;
}

/** Storage of one provider instance, with the account index an admin needs. */
export interface MemoryStore {
  /** The adapter factory for the provider's `adapter` configuration. */
  readonly adapter: (modelName: string) => Adapter;
  /** The live grant ids of an account (oidc-provider itself has no such lookup). */
  grantsOf(accountId: string): string[];
  /** The live sessions of an account. */
  sessionsOf(accountId: string): SessionRecord[];
  /** The account, client and `sid` of a grant, also after it was revoked (until it would expire). */
  grant(grantId: string): GrantRecord | undefined;
}

/**
 * Creates the storage for one provider instance: sessions, interactions, grants, codes and
 * tokens live in a `Map` owned by that instance (oidc-provider's bundled adapter shares one
 * module-wide store between instances, and warns at every start). Expired records are never
 * returned and are swept lazily; no timer is created, so nothing keeps the process alive.
 *
 * Everything is lost when the process stops, which suits the demo: signing keys are persisted
 * separately, so previously issued JWT access tokens still verify after a restart.
 *
 * Keeps an index account -> grants and sessions (written on upsert), so that an administrator can
 * revoke everything of an account, and remembers the `sid` of each grant for the events sent
 * when a grant is revoked.
 *
 * @returns the adapter factory for the provider's `adapter` configuration, and the index
 */
export function createMemoryStore(): MemoryStore {
  const entries = new Map<string, Entry>();
  const grantIndex = new Map<string, Set<string>>();
  /** grantId -> what it was issued for; kept until the grant would have expired. */
  const grants = new Map<string, GrantRecord & { expiresAt: number | undefined }>();
  /** accountId -> storage keys of its grants (`Grant:<id>`) and sessions (`Session:<id>`). */
  const accountIndex = new Map<string, Set<string>>();
  const sessionUidIndex = new Map<string, string>();
  const userCodeIndex = new Map<string, string>();
  let writes = 0;

  const now = (): number => Date.now();
  const isLive = (entry: Entry | undefined): entry is Entry =>
    entry !== undefined && (entry.expiresAt === undefined || entry.expiresAt > now());

  const read = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key);
    if (!isLive(entry)) {
      entries.delete(key);
      return undefined;
    }
    return structuredClone(entry.payload);
  };

  const sweep = (): void => {
    for (const [key, entry] of entries) if (!isLive(entry)) entries.delete(key);
    for (const [grantId, keys] of grantIndex) {
      for (const key of keys) if (!entries.has(key)) keys.delete(key);
      if (keys.size === 0) grantIndex.delete(grantId);
    }
    for (const index of [sessionUidIndex, userCodeIndex]) {
      for (const [alias, key] of index) if (!entries.has(key)) index.delete(alias);
    }
    for (const [accountId, keys] of accountIndex) {
      for (const key of keys) if (!entries.has(key)) keys.delete(key);
      if (keys.size === 0) accountIndex.delete(accountId);
    }
    for (const [grantId, record] of grants) {
      if (record.expiresAt !== undefined && record.expiresAt <= now()) grants.delete(grantId);
    }
  };

  /** Indexes a Grant or Session by account, and the account and `sid` of every grant. */
  const index = (
    modelName: string,
    id: string,
    key: string,
    payload: AdapterPayload,
    expiresAt: number | undefined,
  ): void => {
    const accountId = typeof payload.accountId === 'string' ? payload.accountId : undefined;
    if (accountId === undefined) return;
    if (modelName === 'Grant' || modelName === 'Session') {
      const keys = accountIndex.get(accountId) ?? new Set<string>();
      keys.add(key);
      accountIndex.set(accountId, keys);
    }
    const grantId = modelName === 'Grant' ? id : payload.grantId;
    if (typeof grantId !== 'string') return;
    const known = grants.get(grantId);
    const clientId = typeof payload.clientId === 'string' ? payload.clientId : known?.clientId;
    const sid = typeof payload.sid === 'string' ? payload.sid : known?.sid;
    grants.set(grantId, {
      accountId,
      clientId,
      sid,
      expiresAt: modelName === 'Grant' ? expiresAt : (known?.expiresAt ?? expiresAt),
    });
  };

  const adapter = (modelName: string): Adapter => {
    const keyFor = (id: string): string => `${modelName}:${id}`;

    return {
      async upsert(id, payload, expiresIn) {
        const key = keyFor(id);
        const expiresAt =
          typeof expiresIn === 'number' && Number.isFinite(expiresIn)
            ? now() + expiresIn * 1000
            : undefined;
        entries.set(key, { payload: structuredClone(payload), expiresAt });

        if (modelName === 'Session' && typeof payload.uid === 'string') {
          sessionUidIndex.set(payload.uid, key);
        }
        if (typeof payload.userCode === 'string') userCodeIndex.set(payload.userCode, key);
        if (GRANT_BOUND_MODELS.has(modelName) && typeof payload.grantId === 'string') {
          const keys = grantIndex.get(payload.grantId) ?? new Set<string>();
          keys.add(key);
          grantIndex.set(payload.grantId, keys);
        }
        index(modelName, id, key, payload, expiresAt);

        writes += 1;
        if (writes % SWEEP_EVERY_WRITES === 0) sweep();
      },

      async find(id) {
        return read(keyFor(id));
      },

      async findByUid(uid) {
        const key = sessionUidIndex.get(uid);
        return key === undefined ? undefined : read(key);
      },

      async findByUserCode(userCode) {
        const key = userCodeIndex.get(userCode);
        return key === undefined ? undefined : read(key);
      },

      async consume(id) {
        const entry = entries.get(keyFor(id));
        if (isLive(entry)) entry.payload.consumed = Math.floor(now() / 1000);
      },

      async destroy(id) {
        entries.delete(keyFor(id));
      },

      async revokeByGrantId(grantId) {
        const keys = grantIndex.get(grantId);
        if (!keys) return;
        for (const key of keys) entries.delete(key);
        grantIndex.delete(grantId);
      },
    };
  };

  const liveKeysOf = (accountId: string, prefix: string): string[] =>
    [...(accountIndex.get(accountId) ?? [])].filter(
      (key) => key.startsWith(prefix) && isLive(entries.get(key)),
    );

  return {
    adapter,
    grantsOf: (accountId) =>
      liveKeysOf(accountId, 'Grant:').map((key) => key.slice('Grant:'.length)),
    sessionsOf: (accountId) =>
      liveKeysOf(accountId, 'Session:').map((key) => ({
        id: key.slice('Session:'.length),
        accountId,
      })),
    grant: (grantId) => {
      const record = grants.get(grantId);
      return record && { accountId: record.accountId, clientId: record.clientId, sid: record.sid };
    },
  };
}
