import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** The shared Redis of the test run (never flushed, never stopped). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of its own for one test, so parallel runs never collide. */
export function randomKeyPrefix(): string {
  return `zt-test:${randomBytes(6).toString('hex')}:`;
}

/** A client that gives up at once when Redis is down (for checks and direct assertions). */
export function testRedisClient(url = REDIS_URL): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  return client;
}

/** Whether a Redis answers at `url`. */
export async function redisAnswers(url = REDIS_URL): Promise<boolean> {
  const client = testRedisClient(url);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Whether the shared Redis answers. Suites that need it run with `describe.runIf(redisReady)`:
 * when it is unreachable they are skipped with a notice, except with `CI=true`, where importing
 * this file fails the run (Redis is mandatory there).
 */
export const redisReady = await redisAnswers();
if (!redisReady) {
  if (process.env.CI === 'true')
    throw new Error(`Redis is unreachable at ${REDIS_URL} (mandatory when CI=true)`);
  console.warn(`\n[redis] SKIPPING Redis suites: no Redis at ${REDIS_URL} (set REDIS_URL)\n`);
}

/**
 * A free TCP port on loopback (nothing listens on it once this resolves), below Linux's ephemeral
 * range (32768-60999): the suites' own outgoing connections never take it between this check and
 * the server that binds it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    server.close();
    await once(server, 'close');
    return port;
  }
}

/** Whether `redis-server` can be spawned here (for tests that stop and restart their own). */
export const canSpawnRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!canSpawnRedis)
  console.warn('\n[redis] no redis-server binary: tests that restart a Redis are skipped\n');

/** A private redis-server this test may stop and start again on the same port. */
export interface PrivateRedis {
  readonly url: string;
  /** Starts the server (again) and resolves once it answers. */
  start(): Promise<void>;
  /** Kills the server and resolves once it has exited. */
  stop(): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server: it then accepts nothing and answers nothing. */
  freeze(frozen: boolean): void;
}

/**
 * A private redis-server on a free port, without persistence. Started by `start()`. `args` are
 * more command-line options (e.g. `['--rename-command', 'CONFIG', '']`).
 */
export async function privateRedis(args: readonly string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  return {
    url,
    async start() {
      child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          ...args,
        ],
        { stdio: 'ignore' },
      );
      for (;;) {
        if (child.exitCode !== null) throw new Error('redis-server exited at start');
        if (await redisAnswers(url)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    freeze(frozen) {
      child?.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
    },
    async stop() {
      if (child === undefined || child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
      child = undefined;
    },
  };
}
