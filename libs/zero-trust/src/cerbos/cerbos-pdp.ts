import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

/** Options of {@link startCerbosPdp}. @publicApi */
export interface CerbosPdpOptions {
  /** Directory of the policies (disk storage, read once). */
  policies: string;
  /** The `cerbos` executable. @default the binary of `@cerbos/cerbos-linux-x64` */
  binary?: string;
  /** `engine.globals` the policies read as `G.<name>`. */
  globals?: Record<string, string | number>;
  /** Fail a request whose attributes a condition cannot evaluate. @default true */
  strictEvaluation?: boolean;
  /** Milliseconds to wait for the PDP to be healthy. @default 10000 */
  startTimeout?: number;
}

/** A running PDP: where it listens, and how to stop it. @publicApi */
export interface CerbosPdp {
  /** gRPC target for `new GRPC(target, { tls: false })`, e.g. `127.0.0.1:41234`. */
  readonly grpc: string;
  /** HTTP base URL, e.g. `http://127.0.0.1:41235`. */
  readonly http: string;
  /** The process id. */
  readonly pid: number | undefined;
  /** Stops the PDP and waits for it to exit. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Polls the parent (argv[1]) and the PDP (argv[2]) every half second; stops the PDP when the parent is gone. */
const WATCHDOG = `
const [parent, pdp] = process.argv.slice(1).map(Number);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
setInterval(() => {
  if (!alive(pdp)) process.exit(0);
  if (!alive(parent)) { try { process.kill(pdp, 'SIGTERM'); } catch {} process.exit(0); }
}, 500);
`;

/**
 * Starts a Cerbos PDP on free loopback ports with the policies of a directory (telemetry off,
 * no admin API), and waits until it is healthy: for tests and the demo. Linux x64 with the
 * `@cerbos/cerbos-linux-x64` package, or pass `binary`. @publicApi
 */
export async function startCerbosPdp(options: CerbosPdpOptions): Promise<CerbosPdp> {
  const binary =
    options.binary ?? createRequire(import.meta.url).resolve('@cerbos/cerbos-linux-x64');
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const globals = Object.entries(options.globals ?? {}).map(
    ([name, value]) => `--set=engine.globals.${name}=${value}`,
  );
  const child = spawn(
    binary,
    [
      'server',
      `--set=server.httpListenAddr=127.0.0.1:${httpPort}`,
      `--set=server.grpcListenAddr=127.0.0.1:${grpcPort}`,
      '--set=storage.driver=disk',
      `--set=storage.disk.directory=${options.policies}`,
      '--set=storage.disk.watchForChanges=false',
      `--set=engine.strictEvaluation=${options.strictEvaluation ?? true}`,
      '--set=telemetry.disabled=true',
      '--log-level=warn',
      ...globals,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CERBOS_NO_TELEMETRY: '1' } },
  );
  // A PDP must not outlive whoever started it, however that process ends (a test worker is killed,
  // not exited): a detached watchdog stops it once its parent is gone.
  if (child.pid !== undefined)
    spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), String(child.pid)], {
      detached: true,
      stdio: 'ignore',
    }).unref();
  let stderr = '';
  child.stderr.on(
    'data',
    (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-2000)),
  );
  const exited = once(child, 'exit');
  const http = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const deadline = Date.now() + (options.startTimeout ?? 10_000);
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const response = await fetch(`${http}/_cerbos/health`);
      if (response.ok) return { grpc: `127.0.0.1:${grpcPort}`, http, pid: child.pid, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`The Cerbos PDP did not become healthy: ${stderr.trim() || 'no output'}`);
}
