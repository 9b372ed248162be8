import type { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { inspectRedis } from './redis-topology-health.js';
import { createRedisClient, topologyProblems } from './redis-topology.js';

const timeouts = { commandTimeout: 400, connectTimeout: 300 };

describe('the Redis client of each topology', () => {
  it('gives every cluster node the first URL credentials and TLS, and fails fast', async () => {
    const client = (await createRedisClient({
      ...timeouts,
      cluster: ['rediss://zt:p%40ss@10.0.0.1:7000', 'redis://10.0.0.2'],
    })) as Cluster;
    expect(client.isCluster).toBe(true);
    expect(client.options).toMatchObject({
      lazyConnect: true,
      enableOfflineQueue: false,
      slotsRefreshInterval: 1000,
      redisOptions: {
        username: 'zt',
        password: 'p@ss',
        tls: {},
        maxRetriesPerRequest: 0,
        commandTimeout: 400,
      },
    });
    client.disconnect();
  });

  it('authenticates to the sentinels and the master with the first sentinel URL', async () => {
    const client = (await createRedisClient({
      ...timeouts,
      sentinels: ['redis://:s3cret@[::1]:26379', 'redis://10.0.0.6:26380'],
      name: 'zero-trust',
    })) as Redis;
    expect(client.isCluster).toBe(false);
    expect(client.options).toMatchObject({
      name: 'zero-trust',
      sentinels: [
        { host: '::1', port: 26379 },
        { host: '10.0.0.6', port: 26380 },
      ],
      password: 's3cret',
      sentinelPassword: 's3cret',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    expect(client.options.tls).toBeUndefined();
    client.disconnect();
  });

  it('reports a cluster no node of which answers as down', async () => {
    const client = (await createRedisClient({
      ...timeouts,
      cluster: ['redis://127.0.0.1:1'],
    })) as Cluster;
    client.on('error', () => undefined);
    expect(await inspectRedis(client)).toEqual({
      status: 'down',
      details: { topology: 'cluster', message: 'no cluster node answers' },
    });
    client.disconnect();
  });

  it('names every conflict of the topology options', () => {
    expect(topologyProblems({})).toEqual([
      'needs one of "url", "client", "cluster" or "sentinels" for type "redis"',
    ]);
    expect(topologyProblems({ cluster: [], sentinels: [] })).toEqual([
      'needs one of "url", "client", "cluster" or "sentinels" for type "redis"',
      'needs "name" with "sentinels", and "name" only with them',
    ]);
    expect(topologyProblems({ sentinels: [], name: 'm' })).toEqual([]);
  });
});
