import { GRPC } from '@cerbos/grpc';
import { guard } from '@ucast/mongo2js';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ZeroTrustError } from 'nestjs-zero-trust';
import {
  CerbosDecisionPoint,
  planToCondition,
  UnsupportedPlanError,
  type CerbosPdp,
} from 'nestjs-zero-trust/cerbos';
import { CaslDecisionPoint } from 'nestjs-zero-trust';
import {
  createTestPrincipal,
  expectDecision,
  renderDecisionMatrix,
  type DecisionMatrixOptions,
  type TestIssuer,
} from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MATRIX } from '../../apps/demo-api/src/permission-matrix.js';
import { demoAbilities } from '../../apps/demo-api/src/policies.js';
import { call, startDemoApi, startDemoIssuer, type RunningApi } from '../support/demo-api.js';
import { DEMO_POLICIES, demoPdp, reportsWindowGlobals } from '../support/cerbos.js';

const CERBOS = createRequire(import.meta.url).resolve('@cerbos/cerbos-linux-x64');
const WINDOW = '06:00-22:00';

let pdp: CerbosPdp;
let windowed: CerbosPdp;
let cerbos: CerbosDecisionPoint;
let cerbosWindowed: CerbosDecisionPoint;
let registry: Registry;

beforeAll(async () => {
  [pdp, windowed] = await Promise.all([demoPdp(), demoPdp(WINDOW)]);
  registry = new Registry();
  cerbos = new CerbosDecisionPoint(
    { client: new GRPC(pdp.grpc, { tls: false }), timeout: 2000 },
    registry,
  );
  cerbosWindowed = new CerbosDecisionPoint({
    client: new GRPC(windowed.grpc, { tls: false }),
    timeout: 2000,
  });
});

describe('Cerbos policies are tested like code', () => {
  it('passes the demo policy tests (cerbos compile)', () => {
    const run = spawnSync(CERBOS, ['compile', '--no-color', DEMO_POLICIES], { encoding: 'utf8' });
    expect(run.stdout).toMatch(/tests executed \[\d+ OK\]/);
    expect(run.status).toBe(0);
  });

  it('fails (exit 4) when a policy test expects what the policies do not grant', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zt-cerbos-'));
    cpSync(DEMO_POLICIES, dir, { recursive: true });
    // bob, a customer, "may" update alice's draft: the suite must catch the lie.
    writeFileSync(
      join(dir, 'tests', 'wrong_test.yaml'),
      [
        'name: Wrong',
        'tests:',
        '  - name: a customer edits',
        '    input: { principals: [bob], resources: [alice_draft], actions: [update] }',
        '    expected: [{ principal: bob, resource: alice_draft, actions: { update: EFFECT_ALLOW } }]',
      ].join('\n'),
    );
    const run = spawnSync(CERBOS, ['compile', '--no-color', dir], { encoding: 'utf8' });
    expect(run.status).toBe(4);
  });
});

describe('the same decisions from CASL and Cerbos', () => {
  const matrix: DecisionMatrixOptions = {
    principals: DEMO_MATRIX.principals,
    actions: DEMO_MATRIX.actions,
    kinds: DEMO_MATRIX.subjects,
  };

  it('renders the same permission matrix from both engines', async () => {
    const fromCasl = await renderDecisionMatrix(demoAbilities(), matrix);
    const fromCerbos = await renderDecisionMatrix(cerbos, matrix);
    expect(fromCerbos).toBe(fromCasl);
    // Not vacuous: conditional, full and no access all appear.
    expect(fromCasl).toContain('✅ if customerId');
    expect(fromCasl).toContain('✅ if ownerId, status');
    expect(fromCasl).toContain('| ✅ |');
    expect(fromCasl).toContain('| — |');
  });

  it('renders the same matrix at high risk and outside the reports window', async () => {
    const risky = { ...matrix, environment: { risk: 60 } };
    const adminRow = (text: string) => text.split('\n').find((l) => l.startsWith('| admin'));
    const caslRisky = await renderDecisionMatrix(demoAbilities(), risky);
    expect(await renderDecisionMatrix(cerbos, risky)).toBe(caslRisky);
    expect(adminRow(caslRisky)).toBe('| admin | — | — | — | — |');
    for (const time of ['2026-01-05T05:59:00Z', '2026-01-05T06:00:00Z', '2026-01-05T21:59:00Z']) {
      const at = { ...matrix, environment: { time: new Date(time) } };
      const casl = await renderDecisionMatrix(demoAbilities({ reportsWindow: WINDOW }), at);
      expect([time, await renderDecisionMatrix(cerbosWindowed, at)]).toEqual([time, casl]);
    }
    expect(reportsWindowGlobals(WINDOW)).toEqual({ reportsFrom: 360, reportsTo: 1320 });
  });

  it('decides every record and field the same way', async () => {
    const casl = demoAbilities();
    const records: [string, Record<string, unknown>][] = [];
    for (const status of ['draft', 'issued', 'paid', 'void'])
      for (const ownerId of ['alice', 'dave'])
        records.push([
          'Invoice',
          { id: `i-${status}-${ownerId}`, ownerId, customerId: 'bob', status },
        ]);
    for (const from of ['draft', 'issued', 'paid'])
      for (const to of ['draft', 'issued', 'paid', 'void'])
        records.push(['InvoiceTransition', { id: 'i-1', from, to }]);
    for (const status of ['draft', 'issued', 'paid'])
      records.push(['Payment', { invoiceId: 'i-1', amount: 1, invoice: { status } }]);
    const principals = DEMO_MATRIX.principals.map((p) =>
      createTestPrincipal({ kind: p.kind, id: p.id ?? p.label ?? 'x', roles: p.roles }),
    );
    principals.push(createTestPrincipal({ id: 'alice', roles: ['accountant'] }));
    principals.push(createTestPrincipal({ id: 'bob', roles: ['customer'] }));
    // A user who holds a service's role gets nothing from it, in either engine.
    principals.push(createTestPrincipal({ id: 'mallory', roles: ['billing', 'metrics'] }));
    let allowed = 0;
    let compared = 0;
    const caslPoint = new CaslDecisionPoint(casl);
    const env = { time: new Date(), ip: '127.0.0.1', requestId: 'records' };
    for (const principal of principals) {
      const checks = records.flatMap(([kind, record]) =>
        ['read', 'update', 'create', 'delete'].flatMap((action) =>
          [[], ['status'], ['ownerId']].map((fields) => ({
            resource: { kind, attributes: record },
            action,
            fields,
          })),
        ),
      );
      // The same batches to both engines (Cerbos takes 50 resources a call).
      for (let at = 0; at < checks.length; at += 50) {
        const batch = checks.slice(at, at + 50);
        const [fromCasl, fromCerbos] = await Promise.all([
          caslPoint.check(principal, env, batch),
          cerbos.check(principal, env, batch),
        ]);
        batch.forEach((check, i) => {
          const label = `${principal.id} ${check.action} ${check.resource.kind} ${JSON.stringify(check.resource.attributes)} ${check.fields.join()}`;
          const answer = (v: (typeof fromCasl)[number] | undefined) => [
            v?.allowed,
            v?.refusedFields,
          ];
          expect([label, answer(fromCerbos[i])]).toEqual([label, answer(fromCasl[i])]);
          compared += 1;
          if (fromCasl[i]?.allowed === true) allowed += 1;
        });
      }
    }
    expect(compared).toBeGreaterThan(1000);
    expect(allowed).toBeGreaterThan(50);
  });

  it('asserts a decision against either engine in one line', async () => {
    const alice = createTestPrincipal({ id: 'alice', roles: ['accountant'] });
    const draft = { id: 'i-1', ownerId: 'alice', customerId: 'bob', status: 'draft' };
    for (const engine of [demoAbilities(), cerbos]) {
      await expectDecision(
        engine,
        { principal: alice, action: 'update', kind: 'Invoice', record: draft },
        'allow',
      );
      await expectDecision(
        engine,
        { principal: alice, action: 'update', kind: 'Invoice', record: draft, fields: ['ownerId'] },
        'deny',
      );
      await expect(
        expectDecision(
          engine,
          { principal: alice, action: 'delete', kind: 'Invoice', record: draft },
          'allow',
        ),
      ).rejects.toThrow(/expected \w+ to allow user alice delete Invoice/);
    }
  });

  it('scopes a list with the same records from a Cerbos plan as from CASL', async () => {
    const invoices = ['bob', 'erin'].flatMap((customerId) =>
      ['draft', 'issued'].map((status) => ({
        id: `${customerId}-${status}`,
        ownerId: 'alice',
        customerId,
        status,
      })),
    );
    const env = { time: new Date(), ip: '127.0.0.1', requestId: 'list' };
    for (const [id, roles, kind] of [
      ['bob', ['customer'], 'user'],
      ['billing-worker', ['billing'], 'service'],
      ['alice', ['accountant'], 'user'],
      ['nobody', [], 'user'],
    ] as const) {
      const principal = createTestPrincipal({ id, roles: [...roles], kind });
      const plan = await cerbos.plan(principal, env, 'Invoice', 'read');
      const { condition: casl } = await new (await import('nestjs-zero-trust')).CaslDecisionPoint(
        demoAbilities(),
      ).plan(principal, env, 'Invoice', 'read');
      const pick = (c: typeof casl) =>
        c === null ? [] : invoices.filter(guard(c)).map((i) => i.id);
      expect([id, pick(plan.condition)]).toEqual([id, pick(casl)]);
      expect(plan.rule.description).toMatch(/^cerbos plan for read on Invoice: .* \(call \w+\)$/);
    }
  });
});

describe('the Cerbos adapter', () => {
  const env = { time: new Date(), ip: '127.0.0.1', requestId: 'req-1' };
  const alice = createTestPrincipal({ id: 'alice', roles: ['accountant'] });
  const draft = { id: 'i-1', ownerId: 'alice', customerId: 'bob', status: 'draft' };

  it('decides a batch in one call, naming the rule, the policy and the call id', async () => {
    const [update, transition, other] = await cerbos.check(alice, env, [
      {
        resource: { kind: 'Invoice', id: 'i-1', attributes: draft },
        action: 'update',
        fields: ['amount', 'ownerId'],
      },
      {
        resource: {
          kind: 'InvoiceTransition',
          id: 'i-1',
          attributes: { id: 'i-1', from: 'draft', to: 'paid' },
        },
        action: 'update',
        fields: [],
      },
      {
        resource: { kind: 'Invoice', id: 'i-2', attributes: { ...draft, ownerId: 'dave' } },
        action: 'update',
        fields: [],
      },
    ]);
    expect(update).toMatchObject({ allowed: true, refusedFields: ['ownerId'] });
    expect(update?.rule.description).toMatch(
      /^cerbos resource\.Invoice\.vdefault#owner-edit-draft \(call \w+\)$/,
    );
    expect(transition).toMatchObject({ allowed: false, refusedFields: [] });
    expect(transition?.rule.description).toMatch(
      /^cerbos resource\.InvoiceTransition\.vdefault \(call \w+\)$/,
    );
    expect(other?.allowed).toBe(false);
  });

  it('reads the request time, risk and kind it is given, never its own clock', async () => {
    const reporter = createTestPrincipal({
      kind: 'service',
      id: 'reporting-service',
      roles: ['reporting'],
    });
    const report = { kind: 'Report', id: 'r', attributes: {} };
    const at = (time: string) => ({ ...env, time: new Date(time) });
    const [night] = await cerbosWindowed.check(reporter, at('2026-01-05T23:00:00Z'), [
      { resource: report, action: 'read', fields: [] },
    ]);
    const [day] = await cerbosWindowed.check(reporter, at('2026-01-05T12:00:00Z'), [
      { resource: report, action: 'read', fields: [] },
    ]);
    expect([night?.allowed, day?.allowed]).toEqual([false, true]);
    expect(night?.rule.reason).toBe('outside the reports window');
    const carol = createTestPrincipal({ id: 'carol', roles: ['admin'] });
    const [calm] = await cerbos.check(carol, { ...env, risk: 40 }, [
      { resource: report, action: 'read', fields: [] },
    ]);
    const [risky] = await cerbos.check(carol, { ...env, risk: 41 }, [
      { resource: report, action: 'read', fields: [] },
    ]);
    expect([calm?.allowed, risky?.allowed]).toEqual([true, false]);
  });

  it('fails closed with 503 when the PDP is unreachable, and counts it', async () => {
    const dead = new CerbosDecisionPoint(
      { client: new GRPC('127.0.0.1:1', { tls: false }) },
      registry,
    );
    const refusal = dead.check(alice, env, [
      { resource: { kind: 'Invoice', id: 'i-1', attributes: draft }, action: 'read', fields: [] },
    ]);
    await expect(refusal).rejects.toMatchObject({ code: 'ZT_PDP_UNAVAILABLE', status: 503 });
    await expect(dead.plan(alice, env, 'Invoice', 'read')).rejects.toBeInstanceOf(ZeroTrustError);
    const metric = await registry.getSingleMetric('zero_trust_pdp_calls_total')?.get();
    const count = (kind: string, outcome: string) =>
      metric?.values.find((v) => v.labels.call === kind && v.labels.outcome === outcome)?.value;
    expect(count('check', 'unavailable')).toBe(1);
    expect(count('plan', 'unavailable')).toBe(1);
    expect(count('check', 'ok')).toBeGreaterThan(0);
    expect(await dead.health()).toMatchObject({ up: false });
    expect(await cerbos.health()).toEqual({ up: true, status: 'SERVING' });
  });

  it('fails closed with 503 when the PDP never answers (timeout)', async () => {
    // A listener that accepts and never speaks: the call can only end by the timeout.
    const silent: Server = createServer(() => undefined).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    try {
      const slow = new CerbosDecisionPoint(
        { client: new GRPC(`127.0.0.1:${port}`, { tls: false }), timeout: 50 },
        registry,
      );
      await expect(slow.plan(alice, env, 'Invoice', 'read')).rejects.toMatchObject({
        code: 'ZT_PDP_UNAVAILABLE',
      });
    } finally {
      silent.close();
    }
  });

  it('caches decisions only when asked, keyed on all but the time', async () => {
    const cachedRegistry = new Registry();
    const client = new GRPC(pdp.grpc, { tls: false });
    const cachedPdp = new CerbosDecisionPoint(
      { client, timeout: 2000, cache: { ttl: 30 } },
      cachedRegistry,
    );
    const ok = async () =>
      (await cachedRegistry.getSingleMetric('zero_trust_pdp_calls_total')?.get())?.values.find(
        (v) => v.labels.call === 'check' && v.labels.outcome === 'ok',
      )?.value;
    const check = {
      resource: { kind: 'Invoice', id: 'i-1', attributes: draft },
      action: 'update',
      fields: [],
    };
    await cachedPdp.check(alice, env, [check]);
    await cachedPdp.check(
      alice,
      { ...env, time: new Date(env.time.getTime() + 1000), requestId: 'req-2' },
      [check],
    );
    expect(await ok()).toBe(1);
    // Anything else the decision depends on is a new question: the risk, the record, the principal.
    await cachedPdp.check(alice, { ...env, risk: 90 }, [check]);
    const [moved] = await cachedPdp.check(alice, env, [
      { ...check, resource: { ...check.resource, attributes: { ...draft, status: 'issued' } } },
    ]);
    await cachedPdp.check(createTestPrincipal({ id: 'alice', roles: ['customer'] }), env, [check]);
    expect(await ok()).toBe(4);
    expect(moved?.allowed).toBe(false);
    // Off by default: every question is asked.
    await cerbos.check(alice, env, [check]);
    const before =
      (await registry.getSingleMetric('zero_trust_pdp_calls_total')?.get())?.values.find(
        (v) => v.labels.call === 'check' && v.labels.outcome === 'ok',
      )?.value ?? 0;
    await cerbos.check(alice, env, [check]);
    const after =
      (await registry.getSingleMetric('zero_trust_pdp_calls_total')?.get())?.values.find(
        (v) => v.labels.call === 'check' && v.labels.outcome === 'ok',
      )?.value ?? 0;
    expect(after).toBe(before + 1);
  });

  it('refuses bad options in one boot error', () => {
    expect(
      () => new CerbosDecisionPoint({ client: {} as never, timeout: 0, cache: { ttl: 600 } }),
    ).toThrow(/cerbos\.client[\s\S]*cerbos\.timeout[\s\S]*cerbos\.cache\.ttl/);
  });

  it('never guesses a plan it cannot translate', () => {
    const attr = (name: string) => ({ name: `request.resource.attr.${name}` });
    expect(
      planToCondition({
        operator: 'and',
        operands: [
          { operator: 'eq', operands: [attr('ownerId'), { value: 'alice' }] },
          {
            operator: 'not',
            operands: [{ operator: 'in', operands: [attr('status'), { value: ['void'] }] }],
          },
          { operator: 'lt', operands: [{ value: 5 }, attr('amount')] },
        ],
      }),
    ).toEqual({
      $and: [
        { ownerId: 'alice' },
        { $nor: [{ status: { $in: ['void'] } }] },
        { amount: { $gt: 5 } },
      ],
    });
    // An object value (a claim can be one) stays a value: never operators of the condition.
    expect(
      planToCondition({ operator: 'eq', operands: [attr('team'), { value: { $ne: null } }] }),
    ).toEqual({ team: { $eq: { $ne: null } } });
    for (const hostile of [
      { operator: 'eq', operands: [attr('$where'), { value: 'sleep(1000)' }] },
      { operator: 'eq', operands: [attr('team.$ne'), { value: 1 }] },
      { operator: 'startsWith', operands: [attr('id'), { value: 'a' }] },
      { operator: 'eq', operands: [{ name: 'request.principal.attr.id' }, { value: 'a' }] },
      { operator: 'eq', operands: [attr('a'), attr('b')] },
      { value: true },
    ])
      expect(() => planToCondition(hostile)).toThrow(UnsupportedPlanError);
  });
});

describe('the demo API on Cerbos', () => {
  let issuer: TestIssuer;
  let api: RunningApi;
  const scope = 'invoices:read invoices:write payments:write reports:read';

  beforeAll(async () => {
    issuer = await startDemoIssuer();
    api = await startDemoApi({ issuer: issuer.url, cerbos: { grpc: pdp.grpc, timeout: 2000 } });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  it('serves the same answers: create, own draft, transitions, list scoping, records', async () => {
    const alice = issuer.sign({ sub: 'alice', roles: ['accountant'], scope });
    const bob = issuer.sign({ sub: 'bob', roles: ['customer'], scope });
    const worker = issuer.sign({ sub: 'billing-worker', client_id: 'billing-worker', scope });
    const created = await call(api, 'POST', '/invoices', {
      token: alice,
      body: { customerId: 'bob', amount: 100 },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(
      api.sink.last()?.stages?.find((s) => s.action === 'authz_success')?.rule?.description,
    ).toMatch(/cerbos plan for create on Invoice/);
    // Her own draft, a field she may change; then one she may not; then a transition she may not.
    expect(
      (await call(api, 'PATCH', `/invoices/${id}`, { token: alice, body: { amount: 150 } })).status,
    ).toBe(200);
    const owner = await call(api, 'PATCH', `/invoices/${id}`, {
      token: alice,
      body: { ownerId: 'alice2' },
    });
    expect([owner.status, owner.body.code]).toEqual([403, 'ZT_FIELDS_DENIED']);
    const paid = await call(api, 'PATCH', `/invoices/${id}`, {
      token: alice,
      body: { status: 'paid' },
    });
    expect([paid.status, paid.body.code]).toEqual([403, 'ZT_ACCESS_DENIED']);
    expect(api.sink.last()).toMatchObject({
      authorization: { action: 'update', subject: 'InvoiceTransition', subjectId: id },
      rule: {
        kind: 'conditions',
        description: expect.stringMatching(
          /^cerbos resource\.InvoiceTransition\.vdefault \(call \w+\): the conditions do not match this record$/,
        ),
      },
    });
    // bob lists only his invoices; billing-worker none of the drafts.
    const listed = await call(api, 'GET', '/invoices', { token: bob });
    expect(listed.status).toBe(200);
    const rows = listed.body as unknown as { customerId: string }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.customerId === 'bob')).toBe(true);
    const draftRead = await call(api, 'GET', `/invoices/${id}`, { token: worker });
    expect(draftRead.status).toBe(403);
    // An unknown record: 404 only to a caller who may read some invoice.
    expect((await call(api, 'GET', '/invoices/nope', { token: bob })).status).toBe(404);
    const nobody = issuer.sign({ sub: 'nobody', roles: [], scope });
    expect((await call(api, 'GET', '/invoices/nope', { token: nobody })).status).toBe(403);
  });

  it('refuses (403, never 503) a caller whose own claims the PDP will not evaluate', async () => {
    // Roles and attributes from a valid token that Cerbos refuses as an invalid request.
    const odd = issuer.sign({ sub: 'mallory', roles: ['', 'a b', '✗'], scope });
    const answer = await call(api, 'GET', '/invoices/inv-1', { token: odd });
    expect([answer.status, answer.body.code]).toEqual([403, 'ZT_ACCESS_DENIED']);
  });

  it('answers 503 when the PDP is down, and the readiness probe says so', async () => {
    const down = await startDemoApi({
      issuer: issuer.url,
      cerbos: { grpc: '127.0.0.1:1', timeout: 200 },
    });
    try {
      const alice = issuer.sign({ sub: 'alice', roles: ['accountant'], scope });
      const refused = await call(down, 'GET', '/invoices', { token: alice });
      expect([refused.status, refused.body.code]).toEqual([503, 'ZT_PDP_UNAVAILABLE']);
      const ready = await call(down, 'GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ error: { cerbos: { status: 'down' } } });
      expect((await call(api, 'GET', '/health/ready')).body).toMatchObject({
        info: { cerbos: { status: 'up' } },
      });
    } finally {
      await down.close();
    }
  });
});
