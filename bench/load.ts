// The load generator, run in its own process (pinned to its own core when possible) by run.ts.
// Reads its job from the BENCH_LOAD environment variable, prints JSON lines on stdout.
import autocannon from 'autocannon';
import { TokenSigner, type SigningMaterial } from './tokens.js';

/** A load job. */
export interface LoadJob {
  url: string;
  connections: number;
  /** Seconds of warm-up (not measured), then seconds measured. */
  warmup: number;
  duration: number;
  /** none: no token; warm: one token for every request; cold: a new pre-signed token per
   * request; stream: a new token signed per request (memory mode, no end but `amount`). */
  tokens: 'none' | 'warm' | 'cold' | 'stream';
  /** Number of tokens to pre-sign (cold), or of requests to send (stream). */
  count: number;
  material: SigningMaterial;
}

/** What one measured run gives. */
export interface LoadResult {
  type: 'result';
  requestsPerSecond: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  /** Cold: tokens reused because the pre-signed pool ran out (0 means every token was new). */
  reused: number;
}

type Request = { method?: string; path?: string; headers?: Record<string, string> };

function emit(value: object): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

const job = JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadJob;
const signer = new TokenSigner(job.material);
const warmToken = signer.sign();
const pool: string[] = [];
if (job.tokens === 'cold') {
  for (let i = 0; i < job.count; i += 1) pool.push(signer.sign());
}
let next = 0;
let reused = 0;
let sent = 0;

function tokenFor(): string {
  if (job.tokens === 'stream') {
    sent += 1;
    return signer.sign();
  }
  if (next >= pool.length) {
    reused += 1;
    return pool[next++ % pool.length] as string;
  }
  return pool[next++] as string;
}

function options(duration: number): autocannon.Options {
  const base: autocannon.Options = {
    url: job.url,
    connections: job.connections,
    duration,
  };
  if (job.tokens === 'none') return base;
  if (job.tokens === 'warm') return { ...base, headers: { authorization: `Bearer ${warmToken}` } };
  const setupRequest = (request: Request): Request => ({
    ...request,
    headers: { ...request.headers, authorization: `Bearer ${tokenFor()}` },
  });
  const requests = [{ method: 'GET' as const, setupRequest }] as autocannon.Request[];
  if (job.tokens === 'stream') {
    const { duration: _ignored, ...rest } = base;
    return { ...rest, amount: job.count, requests };
  }
  return { ...base, requests };
}

function run(duration: number, progress = false): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options(duration), (error, result) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result),
    );
    if (progress) {
      let responses = 0;
      instance.on('response', () => {
        responses += 1;
        if (responses % 50_000 === 0) emit({ type: 'progress', responses });
      });
    }
  });
}

if (job.warmup > 0 && job.tokens !== 'stream') await run(job.warmup);
reused = 0;
// The runner reads the server's CPU time now and at the result: CPU per measured request.
emit({ type: 'measuring' });
const result = await run(job.duration, job.tokens === 'stream');
const output: LoadResult = {
  type: 'result',
  requestsPerSecond: job.tokens === 'stream' ? result.requests.average : result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  total: result.requests.total,
  non2xx: result.non2xx,
  errors: result.errors + result.timeouts,
  reused,
};
emit(output);
