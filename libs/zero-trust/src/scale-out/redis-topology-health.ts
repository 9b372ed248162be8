import type { Cluster, Redis } from 'ioredis';
import type { RedisStoreClient } from './redis-topology.js';

/** The state of the Redis behind the stores, as the health indicator reports it. @internal */
export interface RedisTopologyHealth {
  status: 'up' | 'degraded' | 'down';
  /** What was seen: topology, slots, failing masters, replicas, eviction policy, a message. */
  details: Record<string, unknown>;
}

const ALL_SLOTS = 16384;
const EVICTS =
  'Redis may evict replay entries and revocations before they expire; set maxmemory-policy noeviction';

/** `maxmemory-policy` of one server, or undefined when `CONFIG GET` is refused. */
async function policyOf(server: Redis): Promise<string | undefined> {
  // ioredis speaks RESP2: the reply is [name, value].
  const reply: unknown = await server.config('GET', 'maxmemory-policy').catch(() => null);
  return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
}

/** `field:value` lines of an INFO-like reply, as a record. */
const fields = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split(/\r?\n/)
      .map((line) => line.split(':') as [string, string])
      .filter((pair) => pair.length === 2),
  );

/** The first finding that holds (they are listed worst first), else up. */
function judge(findings: [RedisTopologyHealth['status'], string | false][]): {
  status: RedisTopologyHealth['status'];
  message?: string;
} {
  const found = findings.find(([, message]) => message !== false);
  return found === undefined ? { status: 'up' } : { status: found[0], message: found[1] as string };
}

/** A Redis Cluster: every slot served, no master down, each master with a live replica. */
async function inspectCluster(cluster: Cluster): Promise<RedisTopologyHealth> {
  const masters = cluster.nodes('master');
  let info: string | undefined;
  let nodes: string | undefined;
  for (const master of masters) {
    try {
      [info, nodes] = (await Promise.all([
        master.cluster('INFO'),
        master.cluster('NODES'),
      ])) as string[];
      break;
    } catch {
      // the next one
    }
  }
  if (info === undefined || nodes === undefined)
    return { status: 'down', details: { topology: 'cluster', message: 'no cluster node answers' } };
  const state = fields(info);
  const lines = nodes
    .trim()
    .split('\n')
    .map((line) => line.split(' '));
  const failing = (flags = ''): boolean => /(^|,)fail\??(,|$)/.test(flags);
  const serving = lines.filter(([, , flags, , , , , , ...slots]) => {
    return flags?.includes('master') === true && slots.length > 0;
  });
  // A failed master keeps its flags after its replica took its slots over.
  const mastersDown = lines.filter(([, , flags]) => flags?.includes('master') && failing(flags));
  const withoutReplica = serving.filter(
    ([id]) => !lines.some(([, , flags, master]) => master === id && !failing(flags)),
  ).length;
  const policies = await Promise.all(masters.map(policyOf));
  const policy = policies.find((p) => p !== 'noeviction') ?? policies[0];
  const details = {
    topology: 'cluster',
    state: state.cluster_state,
    slotsServed: Number(state.cluster_slots_ok),
    slotsAssigned: Number(state.cluster_slots_assigned),
    masters: serving.length,
    mastersDown: mastersDown.length,
    mastersWithoutReplica: withoutReplica,
    maxmemoryPolicy: policy ?? 'unknown',
  };
  const verdict = judge([
    ['down', state.cluster_state !== 'ok' && 'the cluster is down: a slot has no master'],
    ['down', details.slotsAssigned < ALL_SLOTS && 'some slots are assigned to no master'],
    ['down', policy !== undefined && policy !== 'noeviction' && EVICTS],
    ['degraded', mastersDown.length > 0 && 'a master is down; its replica serves its slots'],
    ['degraded', withoutReplica > 0 && 'a master has no live replica: its failure stops the store'],
    ['degraded', details.slotsServed < ALL_SLOTS && 'a master does not answer'],
  ]);
  return { status: verdict.status, details: { ...details, message: verdict.message } };
}

/**
 * Inspects the Redis behind the stores: a cluster's slots and masters, a Sentinel master's
 * replicas, and `maxmemory-policy` everywhere (anything but `noeviction` is down). @internal
 */
export async function inspectRedis(client: RedisStoreClient): Promise<RedisTopologyHealth> {
  if ('isCluster' in client && client.isCluster) return inspectCluster(client as Cluster);
  const server = client as Redis;
  const sentinel = (server.options.sentinels?.length ?? 0) > 0;
  const policy = await policyOf(server);
  const replication = sentinel ? fields(await server.info('replication')) : {};
  const replicas = Number(replication.connected_slaves ?? 0);
  const details = {
    topology: sentinel ? 'sentinel' : 'standalone',
    ...(sentinel ? { role: replication.role, replicas } : {}),
    maxmemoryPolicy: policy ?? 'unknown',
  };
  const verdict = judge([
    ['down', policy !== undefined && policy !== 'noeviction' && EVICTS],
    ['down', sentinel && replication.role !== 'master' && 'the server in use is not a master'],
    [
      'degraded',
      sentinel && replicas === 0 && 'the master has no replica: its failure stops the store',
    ],
  ]);
  const message =
    verdict.message ??
    (policy === undefined
      ? 'Redis refused CONFIG GET maxmemory-policy; make sure it is noeviction'
      : undefined);
  return { status: verdict.status, details: { ...details, message } };
}
