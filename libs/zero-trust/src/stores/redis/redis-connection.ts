import { setTimeout as delay } from 'node:timers/promises';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ResolvedRedisStoreOptions } from '../../options/validate-options.js';
import { createRedisClient, type RedisStoreClient } from '../../scale-out/redis-topology.js';

/**
 * The Redis client of the Redis stores, from `store.url`, `cluster` or `sentinels` (closed on
 * shutdown) or `store.client` (never closed). Errors are logged, not thrown; ioredis
 * reconnects in the background. @internal
 */
export class RedisStoreConnection implements OnApplicationShutdown {
  private readonly logger = new Logger('ZeroTrustStore');
  private lastError: string | undefined;

  private constructor(
    readonly client: RedisStoreClient,
    private readonly owned: boolean,
  ) {
    client.on('error', this.onError);
    client.on('ready', this.onReady);
  }

  /** Connects (or adopts a client); a Redis down at boot does not stop the boot. */
  static async open(options: ResolvedRedisStoreOptions): Promise<RedisStoreConnection> {
    if (options.client !== undefined) return new RedisStoreConnection(options.client, false);
    const connection = new RedisStoreConnection(await createRedisClient(options), true);
    // Retried through retryStrategy. A cluster that answers without a slot map yet would hold
    // connect() until it has one: the boot waits connectTimeout at most.
    const connected = connection.client.connect().catch(() => undefined);
    await Promise.race([connected, delay(options.connectTimeout, undefined, { ref: false })]);
    return connection;
  }

  /** Closes a client the module created; a client you gave is left open. */
  async onApplicationShutdown(): Promise<void> {
    this.client.off('error', this.onError);
    this.client.off('ready', this.onReady);
    if (!this.owned) return;
    // Keep a listener so an error while closing is not reported as unhandled.
    this.client.on('error', () => undefined);
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  /** Logs each distinct error once until the connection is ready again (no URL, no password). */
  private readonly onError = (error: Error): void => {
    const code = (error as { code?: unknown }).code;
    const summary = typeof code === 'string' ? code : error.name;
    if (summary === this.lastError) return;
    this.lastError = summary;
    this.logger.warn(`Redis store unavailable (${summary}); requests that need it are refused`);
  };

  private readonly onReady = (): void => {
    if (this.lastError !== undefined) this.logger.log('Redis store available again');
    this.lastError = undefined;
  };
}
