// Soak test of the built demo API (`npm run soak`, after `npm run build`): starts the demo IdP
// in this process and the demo API as its own process on free loopback ports, then drives a
// bounded autocannon load mixing valid (60 %), invalid (20 %) and forbidden (20 %) requests.
// Asserts zero 5xx, zero socket errors or timeouts, only the expected statuses in the expected
// shares, and a flat memory (the API's RSS, read from /proc/<pid>/status every few seconds).
// Exits non-zero when an assertion fails.
//
//   node scripts/soak.js [--duration 60] [--adapter express|fastify] [--connections 10]
//                        [--sample 2] [--json]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loginWithPassword } from '../apps/identity/dist/client.js';
import { startIdentityProvider } from '../apps/identity/dist/identity-provider.js';
import { freePort } from './free-port.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    adapter: { type: 'string', default: 'express' },
    connections: { type: 'string', default: '10' },
    sample: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const sampleSeconds = Number(args.sample);
if (!(duration > 0) || !(connections > 0) || !(sampleSeconds > 0))
  throw new Error('--duration, --connections and --sample must be positive numbers');
if (args.adapter !== 'express' && args.adapter !== 'fastify')
  throw new Error('--adapter must be express or fastify');

/**
 * Memory is flat unless, after warm-up, both the RSS trend (least squares) grows faster than
 * this many MiB per minute and the RSS floor (the lowest sample, after a collection) of the last
 * third is above the floor of the first third by more than {@link MAX_FLOOR_GROWTH}. A leak
 * raises both; garbage-collection swings (tens of MiB each way) move only the trend.
 */
const MAX_SLOPE_MIB_PER_MIN = 8;
const MAX_FLOOR_GROWTH = 0.2;
/** The first quarter of the run (at least 10 s when the run allows) is warm-up. */
const warmUpSeconds = Math.min(Math.max(duration / 4, 10), duration / 2);
/**
 * Memory is judged only on at least this many seconds after warm-up: a shorter run (the CI
 * smoke) sees the heap still growing to its working size, which says nothing about a leak.
 */
const MIN_MEMORY_WINDOW_SECONDS = 20;
const judgeMemory = duration - warmUpSeconds >= MIN_MEMORY_WINDOW_SECONDS;

async function rssKiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN);
}

// The IdP (in this process) and the API (its own process, so its RSS is its own).
const dataDir = await mkdtemp(join(tmpdir(), 'zt-soak-'));
const idp = await startIdentityProvider({ port: 0, mtlsPort: 0, dataDir, quiet: true });
const apiPort = await freePort();
const api = spawn(process.execPath, ['apps/demo-api/dist/main.js'], {
  env: {
    ...process.env,
    HTTP_ADAPTER: args.adapter,
    IDP_URL: idp.issuer,
    API_PORT: String(apiPort),
    API_MTLS_PORT: 'off',
    // High enough never to refuse: the soak measures the guards, not the limiter.
    RATE_LIMIT_PER_MINUTE: '100000000',
    // One client address sends every failure: enforced risk would turn valid requests into
    // step-ups. Report-only still runs every signal and keeps every history.
    RISK_MODE: 'report-only',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  },
  stdio: ['ignore', 'ignore', 'pipe'],
});
// Interrupted (Ctrl-C, a CI timeout): the API process goes too.
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    api.kill('SIGKILL');
    process.exit(130);
  });
let apiErrors = '';
api.stderr.on('data', (chunk) => (apiErrors = (apiErrors + chunk).slice(-8192)));

const failures = [];
const samples = [];
let sampler;
let tokenTimer;
try {
  const url = `http://127.0.0.1:${apiPort}`;
  for (let started = Date.now(); ;) {
    if (api.exitCode !== null) throw new Error(`the demo API exited:\n${apiErrors}`);
    if (Date.now() - started > 30_000) throw new Error('the demo API did not start');
    const up = await fetch(`${url}/health/live`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const login = async (username) =>
    (await loginWithPassword({ issuer: idp.issuer, username, password: username })).access_token;
  const tokens = { alice: await login('alice'), bob: await login('bob') };
  // Fresh tokens every minute, so a long run never meets an expired one.
  tokenTimer = setInterval(() => {
    void Promise.all([login('alice'), login('bob')]).then(
      ([alice, bob]) => Object.assign(tokens, { alice, bob }),
      (error) => failures.push(`token refresh failed: ${error.message}`),
    );
  }, 60_000);

  const as = (who, path, expected) => ({
    expected,
    setupRequest: (request) => ({
      ...request,
      method: 'GET',
      path,
      headers: { authorization: `Bearer ${tokens[who]}` },
    }),
  });
  /** A token of alice with a random signature: verified (and refused) every time. */
  const forged = (path) => ({
    expected: 401,
    setupRequest: (request) => ({
      ...request,
      method: 'GET',
      path,
      headers: {
        authorization: `Bearer ${tokens.alice.replace(/[^.]+$/, randomBytes(64).toString('base64url'))}`,
      },
    }),
  });
  const mix = [
    as('alice', '/invoices', 200),
    as('alice', '/invoices/inv-2', 200),
    as('bob', '/invoices/inv-1', 200),
    as('bob', '/me', 200),
    as('alice', '/me', 200),
    as('bob', '/invoices', 200),
    forged('/invoices'),
    {
      expected: 401,
      setupRequest: (request) => ({
        ...request,
        method: 'GET',
        path: '/me',
        headers: { authorization: `Bearer not-a-${randomBytes(8).toString('hex')}.jwt` },
      }),
    },
    as('bob', '/reports/revenue', 403),
    as('bob', '/invoices/inv-2', 403),
  ];
  // Each template answers as expected before the load starts (the run can fail).
  for (const template of mix) {
    const request = template.setupRequest({});
    const response = await fetch(`${url}${request.path}`, { headers: request.headers });
    await response.arrayBuffer();
    if (response.status !== template.expected)
      throw new Error(`${request.path} answered ${response.status}, not ${template.expected}`);
  }
  const expectedShares = { 200: 0.6, 401: 0.2, 403: 0.2 };

  const startedAt = Date.now();
  const sample = async () => {
    samples.push({ t: (Date.now() - startedAt) / 1000, rssKiB: await rssKiB(api.pid) });
  };
  await sample();
  sampler = setInterval(() => void sample(), sampleSeconds * 1000);
  const result = await autocannon({
    url,
    connections,
    duration,
    requests: mix.map(({ setupRequest }) => ({ setupRequest })),
  });
  clearInterval(sampler);
  await sample();

  // Statuses
  const counts = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]),
  );
  const answered = Object.values(counts).reduce((sum, count) => sum + count, 0);
  if (result['5xx'] !== 0) failures.push(`${result['5xx']} answers were 5xx`);
  if (result.errors !== 0) failures.push(`${result.errors} socket errors`);
  if (result.timeouts !== 0) failures.push(`${result.timeouts} timeouts`);
  for (const code of Object.keys(counts))
    if (!(code in expectedShares)) failures.push(`${counts[code]} unexpected ${code} answers`);
  for (const [code, share] of Object.entries(expectedShares)) {
    const seen = (counts[code] ?? 0) / Math.max(answered, 1);
    if (Math.abs(seen - share) > 0.05)
      failures.push(`${code}: ${(seen * 100).toFixed(1)} % of answers, not ${share * 100} %`);
  }
  if (api.exitCode !== null) failures.push('the demo API exited during the run');

  // Memory: least-squares slope of RSS after warm-up.
  const after = samples.filter((s) => s.t >= warmUpSeconds);
  const mib = (kib) => Math.round((kib / 1024) * 10) / 10;
  let slope = null;
  let floors = null;
  if (judgeMemory && after.length >= 4) {
    const n = after.length;
    const mt = after.reduce((sum, s) => sum + s.t, 0) / n;
    const mr = after.reduce((sum, s) => sum + s.rssKiB, 0) / n;
    const num = after.reduce((sum, s) => sum + (s.t - mt) * (s.rssKiB - mr), 0);
    const den = after.reduce((sum, s) => sum + (s.t - mt) ** 2, 0);
    slope = Math.round((num / den / 1024) * 60 * 10) / 10;
    const third = Math.floor(n / 3);
    const floorOf = (part) => Math.min(...part.map((s) => s.rssKiB));
    floors = { first: floorOf(after.slice(0, third)), last: floorOf(after.slice(n - third)) };
    if (slope > MAX_SLOPE_MIB_PER_MIN && floors.last > floors.first * (1 + MAX_FLOOR_GROWTH))
      failures.push(
        `RSS grows after warm-up: ${slope} MiB/min, floor ${mib(floors.first)} → ${mib(floors.last)} MiB`,
      );
  }

  const summary = {
    adapter: args.adapter,
    durationSeconds: duration,
    connections,
    requests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    statuses: counts,
    '5xx': result['5xx'],
    errors: result.errors,
    timeouts: result.timeouts,
    rssMiB: {
      first: mib(samples[0].rssKiB),
      afterWarmUp: after.length > 0 ? mib(after[0].rssKiB) : null,
      last: mib(samples.at(-1).rssKiB),
      max: mib(Math.max(...samples.map((s) => s.rssKiB))),
      slopeAfterWarmUpMiBPerMin: slope,
      floorFirstThird: floors === null ? null : mib(floors.first),
      floorLastThird: floors === null ? null : mib(floors.last),
      samples: samples.length,
      warmUpSeconds,
    },
    node: process.version,
    ok: failures.length === 0,
    failures,
  };
  if (args.json) console.log(JSON.stringify(summary));
  else {
    console.log(
      `soak (${summary.adapter}, ${duration} s, ${connections} connections): ` +
        `${summary.requests} requests, ${summary.requestsPerSecond} req/s, ` +
        `p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms`,
    );
    console.log(
      `statuses ${JSON.stringify(counts)}, 5xx ${summary['5xx']}, errors ${result.errors}, timeouts ${result.timeouts}`,
    );
    const r = summary.rssMiB;
    console.log(
      `RSS MiB: first ${r.first}, after warm-up (${warmUpSeconds} s) ${r.afterWarmUp ?? 'n/a'}, ` +
        `last ${r.last}, max ${r.max}, slope after warm-up ${slope ?? `n/a (memory is judged on runs of at least ${MIN_MEMORY_WINDOW_SECONDS + 10} s)`} MiB/min, ` +
        `floor ${r.floorFirstThird ?? 'n/a'} → ${r.floorLastThird ?? 'n/a'}`,
    );
    console.log(failures.length === 0 ? 'soak OK' : `soak FAILED:\n- ${failures.join('\n- ')}`);
  }
} finally {
  clearInterval(sampler);
  clearInterval(tokenTimer);
  if (api.exitCode === null) {
    const exited = once(api, 'exit');
    api.kill('SIGTERM');
    await exited;
  }
  await idp.close();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(failures.length === 0 ? 0 : 1);
