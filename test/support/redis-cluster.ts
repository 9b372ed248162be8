import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { canSpawnRedis, freePort } from './redis.js';

/*
 * A Redis Cluster and a Sentinel group of the test's own, on free loopback ports in a temp
 * directory, with failure detection in about a second (cluster-node-timeout, down-after). Every
 * process is killed when the test process exits, even without `stop()`.
 */

const children = new Set<ChildProcess>();
const killAll = (): void => {
  for (const child of children) child.kill('SIGKILL');
};
process.once('exit', killAll);
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => {
    killAll();
    process.exit(1);
  });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether these suites can run: `redis-server` (also run as a sentinel) and `redis-cli` (which
 * creates the cluster). Without them they are skipped with a notice, except under `CI=true`,
 * where importing this file fails the run.
 */
export const canSpawnTopologies =
  canSpawnRedis && spawnSync('redis-cli', ['--version']).status === 0;
if (!canSpawnTopologies) {
  if (process.env.CI === 'true')
    throw new Error('redis-server and redis-cli are needed for the cluster suites under CI=true');
  console.warn('\n[redis] SKIPPING Redis Cluster and Sentinel suites: no redis-server/redis-cli\n');
}

/** One redis-server process on a fixed port, which a test may kill. */
export interface RedisNode {
  readonly port: number;
  /** Kills the server (SIGKILL) and resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again with the same configuration (and directory). */
  restart(): Promise<void>;
  readonly alive: boolean;
}

type StartableNode = RedisNode & { start(): Promise<void> };

function node(port: number, args: readonly string[], cwd: string): StartableNode {
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', [...args], { cwd, stdio: 'ignore' });
    children.add(child);
    const started = child;
    started.once('exit', () => children.delete(started));
    for (let i = 0; ; i += 1) {
      if (started.exitCode !== null) throw new Error(`redis-server on ${port} exited at start`);
      const probe = new Redis(port, '127.0.0.1', {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      probe.on('error', () => undefined);
      const answered = await probe
        .connect()
        .then(() => probe.ping())
        .catch(() => null);
      probe.disconnect();
      if (answered === 'PONG') return;
      if (i > 200) throw new Error(`redis-server on ${port} does not answer`);
      await sleep(25);
    }
  };
  return {
    port,
    get alive() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    kill: async () => {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
    restart: start,
    start,
  };
}

// Each write is on disk before it is acknowledged (as the security state needs: docs/scaling.md),
// so a server killed and restarted comes back with everything it had.
const COMMON = [
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'yes',
  '--appendfsync',
  'always',
];
const NO_EVICTION = ['--maxmemory-policy', 'noeviction'];

/** A running Redis Cluster. */
export interface TestRedisCluster {
  /** The startup nodes, as `{ host, port }`. */
  readonly nodes: { host: string; port: number }[];
  /** Every server, masters first (as created). */
  readonly servers: RedisNode[];
  /** The server that is master of `key`'s slot now. */
  masterOf(key: string): Promise<RedisNode>;
  /**
   * Resolves once every slot is served by a live master (`cluster_state:ok` everywhere) and every
   * live replica is in sync with its master.
   */
  healthy(timeoutMs?: number): Promise<void>;
  /** A connected client of the test's own (no offline queue, gives up fast). */
  client(): Promise<Cluster>;
  stop(): Promise<void>;
}

/** A reply of the server on `port`, or null when it does not answer. */
async function askServer(port: number, ...command: [string, ...string[]]): Promise<string | null> {
  const probe = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return String(await probe.call(...command));
  } catch {
    return null;
  } finally {
    probe.disconnect();
  }
}

const clusterInfo = (port: number): Promise<string | null> => askServer(port, 'CLUSTER', 'INFO');

/** Whether every live replica among `servers` is linked to its master and caught up. */
async function inSync(servers: readonly RedisNode[]): Promise<boolean> {
  for (const server of servers.filter((s) => s.alive)) {
    const info = (await askServer(server.port, 'INFO', 'replication')) ?? '';
    if (!info.includes('role:slave')) continue;
    if (!info.includes('master_link_status:up') || info.includes('master_sync_in_progress:1'))
      return false;
  }
  return true;
}

/**
 * Starts `masters` masters with `replicas` replicas each (cluster-node-timeout 1000 ms), with
 * `maxmemory-policy noeviction`, and waits until the cluster is ok on every node.
 */
export async function startRedisCluster(masters = 3, replicas = 1): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'zt-cluster-'));
  const count = masters * (1 + replicas);
  const servers: StartableNode[] = [];
  for (let i = 0; i < count; i += 1) {
    const [port, bus] = [await freePort(), await freePort()];
    const args = [
      '--port',
      String(port),
      '--cluster-port',
      String(bus),
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--appenddirname',
      `aof-${port}`,
      '--cluster-node-timeout',
      '1000',
      // A replica whose master is gone takes over however long it was cut off.
      '--cluster-replica-validity-factor',
      '0',
      ...COMMON,
      ...NO_EVICTION,
    ];
    servers.push(node(port, args, dir));
  }
  await Promise.all(servers.map((server) => server.start()));
  const create = spawn(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ],
    { stdio: 'ignore' },
  );
  const [code] = (await once(create, 'exit')) as [number];
  if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}`);
  const nodes = servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  const own: Cluster[] = [];
  const replicasInSync = (): Promise<boolean> => inSync(servers);
  const cluster: TestRedisCluster = {
    nodes,
    servers,
    async healthy(timeoutMs = 20_000) {
      const started = Date.now();
      for (;;) {
        const infos = await Promise.all(
          servers.filter((s) => s.alive).map((s) => clusterInfo(s.port)),
        );
        if (infos.every((info) => info?.includes('cluster_state:ok')) && (await replicasInSync()))
          return;
        if (Date.now() - started > timeoutMs) throw new Error('the cluster did not become ok');
        await sleep(50);
      }
    },
    async client() {
      const client = new Cluster(nodes, {
        lazyConnect: true,
        enableOfflineQueue: false,
        redisOptions: { maxRetriesPerRequest: 0, connectTimeout: 1000 },
        clusterRetryStrategy: () => 200,
      });
      client.on('error', () => undefined);
      own.push(client);
      await client.connect();
      return client;
    },
    async masterOf(key) {
      for (const server of servers.filter((s) => s.alive)) {
        const probe = new Redis(server.port, '127.0.0.1', { retryStrategy: () => null });
        probe.on('error', () => undefined);
        try {
          const role = (await probe.role()) as [string];
          const slot = await probe.cluster('KEYSLOT', key);
          if (role[0] !== 'master') continue;
          const slots = await probe.cluster('SLOTS');
          const owner = slots.find(([from, to]) => slot >= from && slot <= to);
          const port = owner?.[2]?.[1];
          const match = servers.find((s) => s.port === port);
          if (match !== undefined) return match;
        } finally {
          probe.disconnect();
        }
      }
      throw new Error(`no live master knows the slot of ${key}`);
    },
    async stop() {
      for (const client of own) client.disconnect();
      await Promise.all(servers.map((s) => s.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.healthy();
  return cluster;
}

/** A running Sentinel group: one master, replicas, three sentinels (quorum 2). */
export interface TestSentinelGroup {
  /** The master's name, as the sentinels know it. */
  readonly name: string;
  /** The sentinels, as `{ host, port }`. */
  readonly sentinels: { host: string; port: number }[];
  /** The data servers, the first one the initial master. */
  readonly servers: RedisNode[];
  /** The data server that the sentinels name master now. */
  master(): Promise<RedisNode>;
  /** A connected client of the test's own (through the sentinels). */
  client(): Promise<Redis>;
  stop(): Promise<void>;
}

/**
 * Starts a master with `replicas` replicas and three sentinels (down-after 1000 ms, quorum 2),
 * all `noeviction`, and waits until every sentinel knows every replica.
 */
export async function startSentinelGroup(replicas = 1, name = 'zt'): Promise<TestSentinelGroup> {
  const dir = mkdtempSync(join(tmpdir(), 'zt-sentinel-'));
  const servers: StartableNode[] = [];
  const masterPort = await freePort();
  for (let i = 0; i <= replicas; i += 1) {
    const port = i === 0 ? masterPort : await freePort();
    const follow = i === 0 ? [] : ['--replicaof', '127.0.0.1', String(masterPort)];
    const aof = ['--appenddirname', `aof-${port}`];
    const args = ['--port', String(port), ...aof, ...COMMON, ...NO_EVICTION, ...follow];
    servers.push(node(port, args, dir));
  }
  for (const server of servers) await server.start();
  const sentinelNodes: StartableNode[] = [];
  for (let i = 0; i < 3; i += 1) {
    const port = await freePort();
    const file = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    sentinelNodes.push(node(port, [file, '--sentinel'], dir));
  }
  await Promise.all(sentinelNodes.map((s) => s.start()));
  const sentinels = sentinelNodes.map((s) => ({ host: '127.0.0.1', port: s.port }));
  const ask = async (port: number, ...args: string[]): Promise<unknown> => {
    const probe = new Redis(port, '127.0.0.1', { retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      return await probe.call('SENTINEL', ...args);
    } finally {
      probe.disconnect();
    }
  };
  // Wait until every sentinel has found the replicas and the other sentinels.
  for (let i = 0; ; i += 1) {
    const views = await Promise.all(
      sentinels.map(async ({ port }) => {
        const master = (await ask(port, 'MASTER', name)) as string[];
        const field = (key: string): number => Number(master[master.indexOf(key) + 1]);
        return field('num-slaves') === replicas && field('num-other-sentinels') === 2;
      }),
    );
    if (views.every(Boolean) && (await inSync(servers))) break;
    if (i > 400) throw new Error('the sentinels did not discover the group');
    await sleep(50);
  }
  const own: Redis[] = [];
  return {
    name,
    sentinels,
    servers,
    async master() {
      const [, port] = (await ask(
        sentinelNodes[0]?.port ?? 0,
        'GET-MASTER-ADDR-BY-NAME',
        name,
      )) as [string, string];
      const match = servers.find((s) => s.port === Number(port));
      if (match === undefined) throw new Error('the sentinels name an unknown master');
      return match;
    },
    async client() {
      const client = new Redis({
        sentinels,
        name,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: 1000,
        lazyConnect: true,
      });
      client.on('error', () => undefined);
      own.push(client);
      await client.connect();
      return client;
    },
    async stop() {
      for (const client of own) client.disconnect();
      await Promise.all([...sentinelNodes, ...servers].map((s) => s.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
