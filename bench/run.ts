// `npm run bench`: the bare route, the NestJS docs recipe and the zero-trust demo side by side,
// each server in its own process (pinned to one core when taskset exists), the load generator in
// another. See BENCHMARKS.md for the figures and `npm run bench -- --help` for the flags.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startIssuer, type BenchIssuer } from './issuer.js';
import { micro } from './micro.js';
import type { LoadJob, LoadResult } from './load.js';
import { BENCH_AUDIENCE, TokenSigner } from './tokens.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const PATH = '/invoices/inv-1';

const HELP = `Usage: npm run bench -- [flags]
  --duration <s>      measured seconds per case (default 10)
  --warmup <s>        warm-up seconds per case, not measured (default 3)
  --connections <n>   concurrent connections (default 50)
  --rounds <n>        measure every case n times, alternating, and report the best (default 1)
  --only <list>       comma-separated filters on case names, e.g. fastify,recipe or zt-warm
  --smoke             a few seconds in all (CI): 1 s per case, no warm-up, no thresholds;
                      with --micro, a few hundred iterations of each micro-benchmark
  --ablation          also run the warm demo with each cache, allow events or risk turned off,
                      and with both risk and allow events off
  --memory            memory mode: distinct tokens to one demo server, RSS at intervals
  --tokens <n>        memory mode: number of distinct tokens (default 1000000)
  --adapter <name>    memory mode: express or fastify (default fastify)
  --cold-pool <n>     cold cases: tokens pre-signed per case (default 15000 per second run)
  --micro             only the micro-benchmarks: verification with a PEM string vs a KeyObject,
                      and the risk assessment and audit trail of one warm request in process
  --profile <dir>     write a CPU profile of each server there (node --cpu-prof);
                      summarise one with node bench/dist/profile-summary.js <file>
Environment passed to the demo: RATE_LIMIT_PER_MINUTE (default 100000000), RISK_MODE
(default report-only), REDIS_URL (Redis cases; default redis://127.0.0.1:6379).`;

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    only: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    ablation: { type: 'boolean', default: false },
    memory: { type: 'boolean', default: false },
    tokens: { type: 'string' },
    adapter: { type: 'string' },
    'cold-pool': { type: 'string' },
    profile: { type: 'string' },
    micro: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}

function numberFlag(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`--${name} must be a positive number`);
  return parsed;
}

const smoke = flags.smoke;
const duration = numberFlag(flags.duration, smoke ? 1 : 10, 'duration');
const warmup = smoke ? 0 : numberFlag(flags.warmup, 3, 'warmup');
const connections = numberFlag(flags.connections, smoke ? 10 : 50, 'connections');
const rounds = Math.floor(numberFlag(flags.rounds, 1, 'rounds'));
const coldPool = Math.ceil(
  numberFlag(flags['cold-pool'], 15_000 * (duration + warmup), 'cold-pool'),
);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const canPin = spawnSync('taskset', ['-c', '0', 'true']).status === 0 && availableParallelism() > 1;

type Kind = 'bare' | 'recipe' | 'zero-trust';
type Adapter = 'express' | 'fastify';

interface Case {
  name: string;
  adapter: Adapter;
  kind: Kind;
  tokens: LoadJob['tokens'];
  env?: Record<string, string>;
  /** Decided by a Cerbos PDP (POLICY_ENGINE=cerbos), started once for the run. */
  cerbos?: boolean;
}

interface Measured extends Case {
  result?: LoadResult;
  rssBefore?: number;
  rssAfter?: number;
  /** Server CPU time (user + system) per measured request, in microseconds. */
  cpuPerRequest?: number;
  /** The Cerbos PDP's CPU time per measured request, in microseconds (Cerbos cases). */
  pdpCpuPerRequest?: number;
  failure?: string;
  note?: string;
  /** req/s of every round, when there were several (the table shows the best). */
  runs?: number[];
}

function casesFor(adapter: Adapter, redis: boolean): Case[] {
  const list: Case[] = [
    { name: `${adapter} bare`, adapter, kind: 'bare', tokens: 'none' },
    { name: `${adapter} recipe`, adapter, kind: 'recipe', tokens: 'warm' },
    { name: `${adapter} zt-warm`, adapter, kind: 'zero-trust', tokens: 'warm' },
    { name: `${adapter} zt-cold`, adapter, kind: 'zero-trust', tokens: 'cold' },
  ];
  if (flags.ablation) {
    list.push(
      {
        name: `${adapter} zt-warm no-token-cache`,
        adapter,
        kind: 'zero-trust',
        tokens: 'warm',
        env: { TOKEN_CACHE_MAX: '0' },
      },
      {
        name: `${adapter} zt-warm no-ability-cache`,
        adapter,
        kind: 'zero-trust',
        tokens: 'warm',
        env: { ABILITY_CACHE_MAX: '0' },
      },
      {
        name: `${adapter} zt-warm audit-allows-off`,
        adapter,
        kind: 'zero-trust',
        tokens: 'warm',
        env: { AUDIT_ALLOWS: 'off' },
      },
      {
        name: `${adapter} zt-warm no-caches`,
        adapter,
        kind: 'zero-trust',
        tokens: 'warm',
        env: { TOKEN_CACHE_MAX: '0', ABILITY_CACHE_MAX: '0' },
      },
      {
        name: `${adapter} zt-warm risk-off`,
        adapter,
        kind: 'zero-trust',
        tokens: 'warm',
        env: { RISK_MODE: 'off' },
      },
      {
        // What the pipeline costs without the two defaults the issue requires on top of the
        // checks themselves: how far the rest (verification, revocation, ability, throttling,
        // HTTP) is from a target.
        name: `${adapter} zt-warm risk-off audit-allows-off`,
        adapter,
        kind: 'zero-trust',
        tokens: 'warm',
        env: { RISK_MODE: 'off', AUDIT_ALLOWS: 'off' },
      },
    );
  }
  // The same route with every @Can decided by a Cerbos PDP on this machine (issue "Cerbos").
  list.push({
    name: `${adapter} zt-cerbos-warm`,
    adapter,
    kind: 'zero-trust',
    tokens: 'warm',
    cerbos: true,
  });
  if (redis) {
    for (const tokens of ['warm', 'cold'] as const) {
      list.push({
        name: `${adapter} zt-redis-${tokens}`,
        adapter,
        kind: 'zero-trust',
        tokens,
        env: { REDIS_URL: redisUrl },
      });
    }
  }
  return list;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

async function redisReachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || 6379), hostname || '127.0.0.1', () => {
      socket.write('PING\r\n');
      socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    });
  });
}

/** Redis's `total_commands_processed`, to tell whether a server really used Redis. */
async function redisCommands(url: string): Promise<number | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const done = (value: number | undefined): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1000, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.on('data', (data: Buffer) => {
      reply += data.toString();
      const match = /total_commands_processed:(\d+)/.exec(reply);
      if (match) done(Number(match[1]));
    });
    socket.connect(Number(port || 6379), hostname || '127.0.0.1', () => {
      socket.write('INFO stats\r\n');
    });
  });
}

function rssOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) the process has used so far, in microseconds, from
 * `/proc/<pid>/stat` (clock ticks of `getconf CLK_TCK`, 100 on Linux).
 */
function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

function pinned(core: number, args: string[]): [string, string[]] {
  return canPin ? ['taskset', ['-c', String(core), ...args]] : [process.execPath, args.slice(1)];
}

/** Environment of a server: the caller's, without our knobs unless the case sets them. */
function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['REDIS_URL', 'TOKEN_CACHE_MAX', 'ABILITY_CACHE_MAX', 'AUDIT_ALLOWS'])
    delete env[name];
  return { ...env, NODE_ENV: 'production', ...extra };
}

interface Server {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

async function startServer(
  kind: Kind,
  adapter: Adapter,
  issuer: BenchIssuer,
  extra: Record<string, string> = {},
): Promise<Server> {
  const profiling = flags.profile !== undefined;
  const nodeArgs = profiling
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${flags.profile}`,
        '--import',
        pathToFileURL(join(HERE, 'profile-exit.js')).href,
      ]
    : [];
  const port = await freePort();
  const entry =
    kind === 'zero-trust'
      ? join(ROOT, 'apps/demo-api/dist/main.js')
      : join(HERE, kind === 'bare' ? 'bare/main.js' : 'recipe/main.js');
  const env =
    kind === 'zero-trust'
      ? serverEnv({
          HTTP_ADAPTER: adapter,
          API_PORT: String(port),
          IDP_URL: issuer.material.issuer,
          API_AUDIENCE: BENCH_AUDIENCE,
          RATE_LIMIT_PER_MINUTE: process.env.RATE_LIMIT_PER_MINUTE ?? '100000000',
          RISK_MODE: process.env.RISK_MODE ?? 'report-only',
          // The public listener is measured; the internal mutual-TLS one needs the IdP's PKI.
          API_MTLS_PORT: 'off',
          ...extra,
        })
      : serverEnv({
          BENCH_ADAPTER: adapter,
          PORT: String(port),
          JWT_PUBLIC_KEY: issuer.publicKeyPem,
          ...extra,
        });
  const [command, args] = pinned(0, [process.execPath, ...nodeArgs, entry]);
  const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'], cwd: ROOT });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4000) stderr += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const probe = kind === 'zero-trust' ? '/health' : PATH;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${stderr.trim()}`);
    try {
      const response = await fetch(url + probe);
      await response.arrayBuffer();
      if (kind !== 'zero-trust' || response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(profiling ? 'SIGUSR2' : 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs the load generator in its own process; `onLine` sees its progress lines. */
async function load(
  job: LoadJob,
  onLine?: (line: { type: string; responses: number }) => void,
): Promise<LoadResult> {
  const [command, args] = pinned(availableParallelism() > 1 ? 1 : 0, [
    process.execPath,
    join(HERE, 'load.js'),
  ]);
  const child = spawn(command, args, {
    env: { ...process.env, BENCH_LOAD: JSON.stringify(job) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  let result: LoadResult | undefined;
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffer.slice(0, newline)) as { type: string; responses: number };
      buffer = buffer.slice(newline + 1);
      if (line.type === 'result') result = line as unknown as LoadResult;
      else onLine?.(line);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0 || result === undefined) throw new Error(`load generator failed (exit ${code})`);
  return result;
}

/** One request with the bench principal's token: the route must answer 200. */
async function checkStatus(server: Server, kind: Kind, signer: TokenSigner): Promise<void> {
  const headers: Record<string, string> =
    kind === 'bare' ? {} : { authorization: `Bearer ${signer.sign()}` };
  const response = await fetch(server.url + PATH, { headers });
  const body = await response.text();
  if (response.status !== 200) {
    throw new Error(`GET ${PATH} answered ${response.status}, expected 200: ${body.slice(0, 200)}`);
  }
}

let pdpStarted:
  Promise<{ grpc: string; pid: number | undefined; stop(): Promise<void> }> | undefined;

/** The Cerbos PDP of the run with the demo's policies (reports allowed all day), pinned to core 0. */
function cerbosPdp() {
  const built = pathToFileURL(join(ROOT, 'libs/zero-trust/dist/cerbos/cerbos-pdp.js')).href;
  pdpStarted ??= (import(built) as Promise<typeof import('nestjs-zero-trust/cerbos')>).then(
    async ({ startCerbosPdp }) => {
      const pdp = await startCerbosPdp({
        policies: join(ROOT, 'apps/demo-api/cerbos/policies'),
        globals: { reportsFrom: 0, reportsTo: 0 },
      });
      if (canPin && pdp.pid !== undefined)
        spawnSync('taskset', ['-a', '-p', '-c', '0', String(pdp.pid)]);
      return pdp;
    },
  );
  return pdpStarted;
}

async function measure(item: Case, issuer: BenchIssuer, signer: TokenSigner): Promise<Measured> {
  const measured: Measured = { ...item };
  let server: Server | undefined;
  try {
    const pdp = item.cerbos ? await cerbosPdp() : undefined;
    const cerbosEnv: Record<string, string> = pdp
      ? { POLICY_ENGINE: 'cerbos', CERBOS_GRPC: pdp.grpc }
      : {};
    server = await startServer(item.kind, item.adapter, issuer, { ...item.env, ...cerbosEnv });
    await checkStatus(server, item.kind, signer);
    measured.rssBefore = rssOf(server.child.pid);
    const usesRedis = item.env?.REDIS_URL;
    const commandsBefore = usesRedis ? await redisCommands(usesRedis) : undefined;
    const pid = server.child.pid;
    let cpuAtStart: number | undefined;
    let pdpAtStart: number | undefined;
    measured.result = await load(
      {
        url: server.url + PATH,
        connections,
        warmup,
        duration,
        tokens: item.tokens,
        count: item.tokens === 'cold' ? coldPool : 0,
        material: issuer.material,
      },
      (line) => {
        if (line.type !== 'measuring') return;
        cpuAtStart = cpuMicros(pid);
        pdpAtStart = cpuMicros(pdp?.pid);
      },
    );
    const cpuAtEnd = cpuMicros(pid);
    if (cpuAtStart !== undefined && cpuAtEnd !== undefined && measured.result.total > 0)
      measured.cpuPerRequest = (cpuAtEnd - cpuAtStart) / measured.result.total;
    const pdpAtEnd = cpuMicros(pdp?.pid);
    if (pdpAtStart !== undefined && pdpAtEnd !== undefined && measured.result.total > 0) {
      measured.pdpCpuPerRequest = (pdpAtEnd - pdpAtStart) / measured.result.total;
      measured.note = `the Cerbos PDP used ${Math.round(measured.pdpCpuPerRequest)} µs of CPU per request besides the server's`;
    }
    measured.rssAfter = rssOf(server.child.pid);
    const commandsAfter = usesRedis ? await redisCommands(usesRedis) : undefined;
    if (
      commandsBefore !== undefined &&
      commandsAfter !== undefined &&
      commandsAfter - commandsBefore < measured.result.total
    ) {
      measured.note = 'the demo did not use Redis (fewer Redis commands than requests)';
    }
  } catch (error) {
    measured.failure = error instanceof Error ? error.message : String(error);
  } finally {
    await server?.stop();
  }
  return measured;
}

/**
 * The best run (highest req/s): on a shared machine noise only ever slows a run down, so the
 * fastest of several alternating rounds is the least disturbed estimate. A failure wins.
 */
function best(measured: Measured[]): Measured {
  const failed = measured.find((m) => m.result === undefined);
  if (failed !== undefined || measured.length === 1) return failed ?? (measured[0] as Measured);
  const sorted = [...measured].sort(
    (a, b) => (b.result?.requestsPerSecond ?? 0) - (a.result?.requestsPerSecond ?? 0),
  );
  const all = measured.map((m) => Math.round(m.result?.requestsPerSecond ?? 0));
  return { ...(sorted[0] as Measured), runs: all };
}

const mb = (bytes: number | undefined): string =>
  bytes === undefined ? '?' : (bytes / 1024 / 1024).toFixed(0);
const ratio = (value: number, base: number | undefined): string =>
  base === undefined || base === 0 ? '–' : `${(value / base).toFixed(2)}×`;

function table(results: Measured[]): string {
  const rows = [
    '| case | req/s | p50 ms | p99 ms | server CPU µs/req | non-2xx / errors | RSS MB before → after | × recipe | × bare |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of results) {
    if (row.result === undefined) {
      rows.push(`| ${row.name} | FAILED: ${row.failure ?? '?'} | | | | | | | |`);
      continue;
    }
    const base = (kind: Kind): number | undefined =>
      results.find((r) => r.adapter === row.adapter && r.kind === kind && r.result)?.result
        ?.requestsPerSecond;
    const r = row.result;
    const reused = r.reused > 0 ? ` (${r.reused} tokens reused)` : '';
    const perRound = row.runs ? ` (${row.runs.join(', ')})` : '';
    rows.push(
      `| ${row.name} | ${Math.round(r.requestsPerSecond)}${perRound} | ${r.p50} | ${r.p99} | ${row.cpuPerRequest === undefined ? '?' : Math.round(row.cpuPerRequest)} | ${r.non2xx} / ${r.errors}${reused} | ${mb(row.rssBefore)} → ${mb(row.rssAfter)} | ${row.kind === 'recipe' ? '1.00×' : ratio(r.requestsPerSecond, base('recipe'))} | ${ratio(r.requestsPerSecond, base('bare'))} |`,
    );
  }
  return rows.join('\n');
}

async function memoryMode(issuer: BenchIssuer): Promise<void> {
  const count = Math.floor(numberFlag(flags.tokens, 1_000_000, 'tokens'));
  const adapter = (flags.adapter ?? 'fastify') as Adapter;
  if (adapter !== 'express' && adapter !== 'fastify')
    throw new Error('--adapter: express or fastify');
  const server = await startServer('zero-trust', adapter, issuer);
  const started = Date.now();
  const samples: string[] = ['| distinct tokens sent | RSS MB | elapsed s |', '|---:|---:|---:|'];
  const sample = (sent: number): void => {
    const line = `| ${sent} | ${mb(rssOf(server.child.pid))} | ${((Date.now() - started) / 1000).toFixed(0)} |`;
    samples.push(line);
    console.log(line);
  };
  try {
    await checkStatus(server, 'zero-trust', new TokenSigner(issuer.material));
    console.log(`memory mode: ${count} distinct tokens to the ${adapter} demo`);
    sample(0);
    const result = await load(
      {
        url: server.url + PATH,
        connections,
        warmup: 0,
        duration: 0,
        tokens: 'stream',
        count,
        material: issuer.material,
      },
      (line) => {
        if (line.type === 'progress' && line.responses % 100_000 === 0) sample(line.responses);
      },
    );
    sample(result.total);
    console.log(
      `\n${samples.join('\n')}\n\n${Math.round(result.requestsPerSecond)} req/s, non-2xx ${result.non2xx}, errors ${result.errors}`,
    );
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (flags.micro) {
    await micro(flags.smoke);
    return;
  }
  const issuer = await startIssuer();
  try {
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    console.log(
      `node ${process.version}, ${availableParallelism()} cores (${cpu}); ` +
        (canPin ? 'servers pinned to core 0, load generator to core 1' : 'no core pinning') +
        `; ${connections} connections, ${warmup} s warm-up, ${duration} s measured`,
    );
    if (flags.memory) {
      await memoryMode(issuer);
      return;
    }
    let redis = await redisReachable(redisUrl);
    if (!redis) {
      if (process.env.CI === 'true') throw new Error(`Redis unreachable at ${redisUrl} under CI`);
      console.log(`NOTICE: Redis unreachable at ${redisUrl}; the Redis cases are skipped`);
    }
    const filters = (flags.only ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    const cases = [...casesFor('express', redis), ...casesFor('fastify', redis)].filter((c) =>
      filters.every((f) => c.name.includes(f)),
    );
    redis = cases.some((c) => c.env?.REDIS_URL !== undefined);
    const signer = new TokenSigner(issuer.material);
    const runs = new Map<string, Measured[]>(cases.map((c) => [c.name, []]));
    for (let round = 1; round <= rounds; round += 1) {
      if (rounds > 1) console.log(`round ${round} of ${rounds}`);
      for (const item of cases) {
        process.stdout.write(`${item.name} … `);
        const measured = await measure(item, issuer, signer);
        runs.get(item.name)?.push(measured);
        console.log(
          measured.result
            ? `${Math.round(measured.result.requestsPerSecond)} req/s`
            : `FAILED: ${measured.failure}`,
        );
      }
    }
    const results = cases.map((c) => best(runs.get(c.name) ?? []));
    console.log(`\n${table(results)}`);
    for (const row of results.filter((r) => r.note !== undefined)) {
      console.log(`NOTICE: ${row.name}: ${row.note}`);
    }
    const failed = results.filter((r) => r.result === undefined);
    const errors = results.filter((r) => r.result && (r.result.non2xx > 0 || r.result.errors > 0));
    if (failed.length > 0 || errors.length > 0) {
      console.error(`\n${failed.length} case(s) failed, ${errors.length} with non-2xx or errors`);
      process.exitCode = 1;
    }
  } finally {
    await issuer.close();
    await (await pdpStarted?.catch(() => undefined))?.stop();
  }
}

await main();
