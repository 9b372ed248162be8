import { Logger } from '@nestjs/common';
import { due } from '../stores/store-full.js';
import type { RedisStoreClient } from './redis-topology.js';

const logger = new Logger('ZeroTrustStore');
const warned = new Map<string, number>();

/**
 * Resolves once `write` (a command on one key, already sent) is held by `replicas` replicas of
 * that key's master, as Redis `WAIT` reports, or `waitMs` has passed. Fewer replicas is logged,
 * not thrown: the master holds the write and enforces it; only a failover before a replica has
 * it would lose it (the health check reports a master without replica as degraded). @internal
 */
export async function acknowledged<T>(
  client: RedisStoreClient,
  write: Promise<T>,
  key: string,
  replicas: number,
  waitMs: number,
): Promise<T> {
  const result = await write;
  if (replicas === 0) return result;
  // WAIT has no key: a pipeline that names `key` first sends it to that key's master (cluster),
  // where it counts the replicas that hold every write of this connection so far.
  const replies = await client.pipeline().exists(key).call('WAIT', replicas, waitMs).exec();
  const [error, acks] = replies?.[1] ?? [new Error('The Redis WAIT was aborted'), 0];
  if (error) throw error;
  if (Number(acks) < replicas && due(warned, 'acks'))
    logger.warn(
      `A revocation is held by ${Number(acks)} of ${replicas} replicas; a failover now would lose it`,
    );
  return result;
}
