import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));

/**
 * Builds the library and the apps (`npm run build`: `tsc -b`, incremental, so it is quick when
 * `dist` is up to date). CI runs the tests before its own build, so suites that start the built
 * demo as a process build it first.
 */
export async function buildDemo(): Promise<void> {
  await promisify(execFile)(process.execPath, [TSC, '-b', 'tsconfig.build.json'], {
    cwd: ROOT,
    timeout: 170_000,
  });
}

/** A demo API running as its own process (`node apps/demo-api/dist/main.js`). */
export interface DemoProcess {
  readonly url: string;
  readonly pid: number;
  /** Its stdout and stderr so far (the last 64 KiB), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the built demo API on `port` (default: a free loopback port) with `env` added to this process's
 * environment (no mutual-TLS listener), and resolves once it listens.
 */
export async function startDemoProcess(
  env: Record<string, string>,
  port?: number,
): Promise<DemoProcess> {
  port ??= await freePort();
  const child: ChildProcess = spawn(process.execPath, ['apps/demo-api/dist/main.js'], {
    cwd: ROOT,
    env: { ...process.env, API_MTLS_PORT: 'off', LOG_LEVEL: 'warn', ...env, API_PORT: `${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const deadline = Date.now() + 30_000;
  while (!output.includes(`listening on http://127.0.0.1:${port}`)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the demo API process did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
