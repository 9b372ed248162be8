import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { ResolvedRedisStoreOptions } from '../../options/validate-options.js';

/**
 * The Redis client of the Redis stores, from `store.url` (closed on shutdown) or `store.client`
 * (never closed). Errors are logged, not thrown; ioredis reconnects in the background. @internal
 */
export class RedisStoreConnection implements OnApplicationShutdown {
  private readonly logger = new Logger('ZeroTrustStore');
  private lastError: string | undefined;

  private constructor(
    readonly client: Redis,
    private readonly owned: boolean,
  ) {
    client.on('error', this.onError);
    client.on('ready', this.onReady);
  }

  /** Connects (or adopts a client); a Redis down at boot does not stop the boot. */
  static async open(options: ResolvedRedisStoreOptions): Promise<RedisStoreConnection> {
    if (options.client !== undefined) return new RedisStoreConnection(options.client, false);
    const missing = 'store.type "redis" needs the package "ioredis" (npm install ioredis)';
    const { Redis: RedisClient } = await import('ioredis').catch((cause: unknown) => {
      throw new Error(missing, { cause });
    });
    const client = new RedisClient(options.url as string, {
      lazyConnect: true,
      // The commands a request issues in one tick (the risk signals start together) leave in
      // one write instead of one system call each.
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeout,
      connectTimeout: options.connectTimeout,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
    });
    const connection = new RedisStoreConnection(client, true);
    await client.connect().catch(() => undefined); // retried through retryStrategy
    return connection;
  }

  /** Redis's `maxmemory-policy`, or undefined when `CONFIG GET` is refused (managed services). */
  async evictionPolicy(): Promise<string | undefined> {
    // ioredis speaks RESP2: the reply is [name, value].
    const reply: unknown = await this.client.config('GET', 'maxmemory-policy').catch(() => null);
    return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
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
