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

/**
 * Creates the storage for one provider instance: sessions, interactions, grants, codes and
 * tokens live in a `Map` owned by that instance (oidc-provider's bundled adapter shares one
 * module-wide store between instances, and warns at every start). Expired records are never
 * returned and are swept lazily; no timer is created, so nothing keeps the process alive.
 *
 * Everything is lost when the process stops, which suits the demo: signing keys are persisted
 * separately, so previously issued JWT access tokens still verify after a restart.
 *
 * @returns an adapter factory for the provider's `adapter` configuration
 */
export function createMemoryAdapterFactory(): (modelName: string) => Adapter {
  const entries = new Map<string, Entry>();
  const grantIndex = new Map<string, Set<string>>();
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
  };

  return (modelName: string): Adapter => {
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
}
