import { Agent } from 'node:http';
import * as fc from 'fast-check';
import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, startDemoApi, startDemoIssuer, type RunningApi } from '../support/demo-api.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';

/**
 * Fuzzing the demo over real HTTP, with context risk enforced: random methods, paths, query
 * strings, headers (Authorization, X-Forwarded-For, X-Forwarded-Client-Cert, DPoP, ...) and
 * bodies, principals, addresses and routes named like Object.prototype members among them.
 * Never a 5xx, never an unhandled rejection, and the server still answers afterwards.
 *
 * FUZZ_RUNS (requests per adapter, default 5000) and FUZZ_SEED reproduce or extend a run; the
 * seed is printed.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const CONCURRENCY = 32;
/** Names an object literal used as a map answers from Object.prototype. */
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

/** What one generated request holds before tokens are filled in. */
interface FuzzRequest {
  method: string;
  path: string;
  headers: [string, string][];
  auth: AuthShape;
  body: string | undefined;
}

type AuthShape =
  | { kind: 'none' }
  | { kind: 'raw'; value: string }
  | { kind: 'valid'; roles: string[]; sub: string }
  | { kind: 'client'; clientId: string }
  | { kind: 'claims'; claims: Record<string, unknown> }
  | { kind: 'mutated'; position: number; char: string }
  | { kind: 'segments'; segments: string[] };

/** Characters node:http lets through in a header value (the server must cope with all of them). */
const headerChar = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.constant(0x09) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
);
const headerValue = fc
  .array(headerChar, { maxLength: 200 })
  .map((codes) => Buffer.from(codes).toString('latin1').trim());
const tokenChars = fc.constantFrom(
  ..."!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split(''),
);
const b64url = fc.string({
  unit: fc.constantFrom(
    ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split(''),
  ),
  maxLength: 120,
});
const pathSegment = fc.oneof(
  fc.constantFrom(
    'me',
    'invoices',
    'health',
    'payments',
    'reports',
    'revenue',
    'admin',
    'revocations',
    'inv-1',
    'inv-2',
    '..',
    '.',
    '%2e%2e',
    '%2F',
    '%00',
    '%zz',
    '%',
    ...PROTOTYPE_NAMES,
    '',
  ),
  fc.string({ unit: tokenChars, maxLength: 30 }).map(encodeURIComponent),
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom('fields', 'status', 'a[b]', '__proto__[x]', 'limit'), b64url),
        fc.string({ maxLength: 40 }),
      ),
      { maxLength: 5 },
    )
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`),
);
const method = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'),
  },
  { weight: 1, arbitrary: fc.string({ unit: tokenChars, minLength: 1, maxLength: 10 }) },
);
const auth: fc.Arbitrary<AuthShape> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  headerValue.map((value) => ({ kind: 'raw' as const, value })),
  fc
    .tuple(fc.constantFrom('Bearer ', 'bearer ', 'DPoP ', 'Basic ', 'Bearer  ', ''), headerValue)
    .map(([scheme, value]) => ({ kind: 'raw' as const, value: `${scheme}${value}` })),
  fc.record({
    kind: fc.constant('valid' as const),
    roles: fc.subarray(['admin', 'accountant', 'customer', 'auditor', '__proto__']),
    sub: fc.oneof(
      fc.constantFrom('alice', 'bob', 'billing-worker', ...PROTOTYPE_NAMES),
      fc.string({ maxLength: 20 }),
    ),
  }),
  // Client-credentials tokens (sub = client_id): registered services, and names that are not.
  fc.record({
    kind: fc.constant('client' as const),
    clientId: fc.constantFrom(
      'billing-worker',
      'reporting-service',
      'metrics-scraper',
      ...PROTOTYPE_NAMES,
    ),
  }),
  // Correctly signed, with claims of any JSON type: the principal mapping must cope.
  fc.record({
    kind: fc.constant('claims' as const),
    claims: fc.dictionary(
      fc.constantFrom(
        'sub',
        'client_id',
        'azp',
        'roles',
        'scope',
        'scp',
        'acr',
        'amr',
        'auth_time',
        'cnf',
        'act',
        'aud',
        'iat',
        'nbf',
        'exp',
        'jti',
        'tenant',
        '__proto__',
      ),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 4 },
    ),
  }),
  fc.record({
    kind: fc.constant('mutated' as const),
    position: fc.nat(),
    char: fc.constantFrom('A', '.', '-', '_', '=', '+', '/', '"'),
  }),
  fc.record({
    kind: fc.constant('segments' as const),
    segments: fc.array(b64url, { minLength: 1, maxLength: 6 }),
  }),
);
/** Client addresses (the demo trusts loopback proxies): located, prototype names, junk. */
const forwardedFor = fc.oneof(
  fc.constantFrom(
    '81.2.69.142',
    '175.16.199.7',
    '89.160.20.115',
    '216.160.83.57',
    '2001:db8::1',
    '::ffff:127.0.0.1',
    ...PROTOTYPE_NAMES,
  ),
  headerValue,
);
const extraHeader = fc.oneof(
  { weight: 1, arbitrary: fc.tuple(fc.constant('x-forwarded-for'), forwardedFor) },
  fc.tuple(
    fc.constantFrom(
      'x-forwarded-for',
      'x-forwarded-client-cert',
      'dpop',
      'x-request-id',
      'forwarded',
      'x-real-ip',
      'content-type',
      'accept',
      'origin',
      'cookie',
      'x-http-method-override',
    ),
    headerValue,
  ),
  fc.tuple(
    fc.oneof(
      fc.constantFrom(...PROTOTYPE_NAMES),
      fc.string({ unit: tokenChars, minLength: 1, maxLength: 20 }),
    ),
    headerValue,
  ),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.json({ maxDepth: 4 }),
  fc.string({ maxLength: 300 }),
  fc.nat({ max: 3000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.constantFrom(
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"admin":true}}}',
    '{"amount":1e309,"invoiceId":null}',
    '{"jti":"","subject":""}',
    '{',
  ),
);
/** The demo's routes, with ids both real and hostile. */
const id = fc.oneof(fc.constantFrom('inv-1', 'inv-2', 'inv-3', 'missing'), pathSegment);
const route = fc.oneof(
  fc.constantFrom(
    '/me',
    '/invoices',
    '/payments',
    '/reports/revenue',
    '/admin/revocations',
    '/health',
  ),
  id.map((x) => `/invoices/${x}`),
);
const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method,
  path: fc
    .tuple(
      fc.oneof(
        { weight: 3, arbitrary: route },
        {
          weight: 1,
          arbitrary: fc
            .array(pathSegment, { minLength: 1, maxLength: 4 })
            .map((segments) => `/${segments.join('/')}`),
        },
      ),
      query,
    )
    .map(([path, q]) => `${path}${q}`),
  headers: fc.array(extraHeader, { maxLength: 4 }),
  auth,
  body,
});

/** Turns a generated shape into headers, signing real tokens where asked. */
function materialize(
  request: FuzzRequest,
  issuer: TestIssuer,
  valid: string,
): Record<string, string> {
  // Null-prototype: a header named __proto__ is sent like any other.
  const headers = Object.create(null) as Record<string, string>;
  for (const [name, value] of request.headers) headers[name.toLowerCase()] = value;
  const a = request.auth;
  if (a.kind === 'raw') headers.authorization = a.value;
  else if (a.kind === 'valid')
    headers.authorization = `Bearer ${issuer.sign({ sub: a.sub || 'x', roles: a.roles })}`;
  else if (a.kind === 'client')
    headers.authorization = `Bearer ${issuer.sign({ sub: a.clientId, client_id: a.clientId })}`;
  else if (a.kind === 'claims') headers.authorization = `Bearer ${issuer.sign(a.claims)}`;
  else if (a.kind === 'mutated') {
    const i = a.position % valid.length;
    headers.authorization = `Bearer ${valid.slice(0, i)}${a.char}${valid.slice(i + 1)}`;
  } else if (a.kind === 'segments') headers.authorization = `Bearer ${a.segments.join('.')}`;
  if (request.body !== undefined && headers['content-type'] === undefined)
    headers['content-type'] = 'application/json';
  return headers;
}

describe.each(ADAPTERS)('fuzzing the demo API over HTTP (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;

  beforeAll(async () => {
    issuer = await startDemoIssuer();
    // Risk enforced, every signal of the demo on: the signals read principal ids, addresses,
    // routes and headers from the fuzzed requests.
    api = await startDemoApi({ issuer: issuer.url, adapter, riskMode: 'enforce' });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  it(`answers ${RUNS} random requests without a 5xx, an unhandled rejection or a crash`, async () => {
    const seed = adapter === 'express' ? SEED : SEED + 1;
    console.info(
      `fuzz (${adapter}): FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} (this adapter: seed ${seed})`,
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const requests = fc.sample(fuzzRequest, { seed, numRuns: RUNS });
    const valid = issuer.sign({ sub: 'alice', roles: ['admin'] });
    const failures: { request: FuzzRequest; response: RawResponse }[] = [];
    const statuses = new Map<number, number>();
    let retried = 0;
    const started = performance.now();
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < requests.length) {
          const request = requests[next++] as FuzzRequest;
          const options = {
            method: request.method,
            path: request.path,
            headers: materialize(request, issuer, valid),
            body: request.body,
          };
          let response = await rawRequest(api.url, { ...options, agent });
          if (response.status === 0) {
            // A keep-alive socket the server closed after a refusal: once more on a fresh one.
            retried += 1;
            response = await rawRequest(api.url, options);
          }
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status === 0 || response.status >= 500) failures.push({ request, response });
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      agent.destroy();
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.info(
      `fuzz (${adapter}): ${requests.length} requests in ${seconds} s, ${retried} retried; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    if (failures.length > 0)
      console.info(
        `fuzz (${adapter}) failures:`,
        JSON.stringify(
          failures
            .slice(0, 20)
            .map((f) => [
              f.request.method,
              f.request.path,
              f.request.body,
              f.request.headers,
              f.response.status,
              f.response.error,
              f.response.body.slice(0, 200),
            ]),
        ),
      );
    expect(failures.slice(0, 3)).toEqual([]);
    expect(unhandled).toEqual([]);
    // Still up, and still verifying.
    const health = await rawRequest(api.url, { path: '/health' });
    expect(health.status).toBe(200);
    // A principal with no history: the fuzzed ones may rightly be stepped up by now.
    const me = await rawRequest(api.url, {
      path: '/me',
      headers: { authorization: `Bearer ${issuer.sign({ sub: 'after-the-fuzz', roles: [] })}` },
    });
    expect(me.status).toBe(200);
  }, 300_000);
});
