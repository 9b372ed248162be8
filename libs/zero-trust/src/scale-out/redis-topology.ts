import type { ClusterOptions, RedisOptions } from 'ioredis';
import * as z from 'zod';
import { says } from '../options/schema-kit.js';
import type { ResolvedRedisStoreOptions } from '../options/validate-options.js';

// Where the Redis stores' data lives: one server (`url`), a Redis Cluster (`cluster`) or a group
// watched by Sentinel (`sentinels` + `name`), and the client the module creates for each.

/**
 * A client the Redis stores work with: a plain or Sentinel-backed ioredis `Redis`, or a
 * `Cluster`. @publicApi
 */
/** @ts-ignore ioredis is an optional peer: without it, this type is `any` (skipLibCheck: false). */
export type RedisStoreClient = import('ioredis').Redis | import('ioredis').Cluster;

const nodeUrls = (what: string) => {
  const expected = says(`must be a non-empty array of redis:// or rediss:// URLs of ${what}`);
  const url = z
    .string(says('must be a redis:// or rediss:// URL'))
    .refine((value) => URL.canParse(value) && /^rediss?:\/\/[^/?#]+\/?$/.test(value));
  return z.array(url, expected).min(1, expected);
};

/** The topology options of the Redis `store` (spread into its schema). @internal */
export const redisTopologyOptions = {
  /**
   * Startup nodes of a Redis Cluster (`redis://[user:password@]host:port`); the rest are
   * discovered. The first URL's credentials and scheme (`rediss:` for TLS) apply to every node.
   * Give one of `url`, `client`, `cluster` or `sentinels`.
   */
  cluster: nodeUrls('cluster nodes').optional(),
  /**
   * Sentinels watching the master `name` (`redis://[user:password@]host:port`). The first URL's
   * credentials authenticate to the sentinels and to the master and replicas alike; `rediss:`
   * uses TLS for both. Give one of `url`, `client`, `cluster` or `sentinels`.
   */
  sentinels: nodeUrls('sentinels').optional(),
  /** The master's name as the sentinels know it (`sentinel monitor <name> …`). */
  name: z.string(says('must be the master name the sentinels monitor')).min(1).optional(),
  /**
   * Replicas that must hold a revocation (Redis `WAIT`) before it is reported stored, so that a
   * failover cannot lose it; fewer within `commandTimeout` is logged. @default 1 with `cluster`
   * or `sentinels`, else 0
   */
  replicaAcks: z.number(says('must be a non-negative integer')).int().min(0).optional(),
};

/** Problems of the Redis `store`'s topology: one source, `name` with `sentinels`. @internal */
export function topologyProblems(
  store: Partial<Record<'url' | 'client' | 'cluster' | 'sentinels' | 'name', unknown>>,
): string[] {
  const given = [store.url, store.client, store.cluster, store.sentinels];
  const problems: string[] = [];
  if (given.filter((value) => value !== undefined).length !== 1)
    problems.push('needs one of "url", "client", "cluster" or "sentinels" for type "redis"');
  if ((store.sentinels === undefined) !== (store.name === undefined))
    problems.push('needs "name" with "sentinels", and "name" only with them');
  return problems;
}

/** Credentials and TLS of a node URL, as ioredis options (never logged). */
function secretsOf(url: string): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  const { username, password, protocol } = new URL(url);
  return {
    ...(username === '' ? {} : { username: decodeURIComponent(username) }),
    ...(password === '' ? {} : { password: decodeURIComponent(password) }),
    ...(protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

const hostAndPort = (url: string): { host: string; port: number } => {
  const { hostname, port } = new URL(url);
  return { host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) };
};

/**
 * A client for the topology, not yet connected. Every command fails at once while its server
 * is unreachable (no offline queue, no retry of a command), so a request is refused (503) rather
 * than held; the connection itself is retried in the background. @internal
 */
export async function createRedisClient(
  options: Pick<
    ResolvedRedisStoreOptions,
    'url' | 'cluster' | 'sentinels' | 'name' | 'commandTimeout' | 'connectTimeout'
  >,
): Promise<RedisStoreClient> {
  const missing = 'store.type "redis" needs the package "ioredis" (npm install ioredis)';
  const ioredis = await import('ioredis').catch((cause: unknown) => {
    throw new Error(missing, { cause });
  });
  const common = { lazyConnect: true, enableOfflineQueue: false } as const;
  const perConnection: RedisOptions = {
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeout,
    connectTimeout: options.connectTimeout,
  };
  const retry = (attempt: number): number => Math.min(attempt * 100, 2000);
  if (options.cluster !== undefined) {
    const clusterOptions: ClusterOptions = {
      ...common,
      redisOptions: { ...perConnection, ...secretsOf(options.cluster[0] as string) },
      clusterRetryStrategy: retry,
      // A slot whose master is gone answers at once (503) instead of after redirections, and
      // the slot map is read again every second: a promoted replica serves within a second.
      maxRedirections: 2,
      retryDelayOnFailover: 50,
      retryDelayOnClusterDown: 50,
      slotsRefreshInterval: 1000,
    };
    return new ioredis.Cluster(options.cluster.map(hostAndPort), clusterOptions);
  }
  // The commands a request issues in one tick (the risk signals start together) leave in one
  // write instead of one system call each. Not on a cluster: there a command waits, without
  // bound, for a slot map the cluster may not have yet, where it must fail (503) at once.
  const base = { ...common, ...perConnection, retryStrategy: retry, enableAutoPipelining: true };
  if (options.sentinels !== undefined) {
    const secrets = secretsOf(options.sentinels[0] as string);
    return new ioredis.Redis({
      ...base,
      ...secrets,
      sentinels: options.sentinels.map(hostAndPort),
      name: options.name,
      sentinelUsername: secrets.username,
      sentinelPassword: secrets.password,
      ...(secrets.tls === undefined ? {} : { enableTLSForSentinelMode: true, sentinelTLS: {} }),
      sentinelRetryStrategy: retry,
    });
  }
  return new ioredis.Redis(options.url as string, base);
}
