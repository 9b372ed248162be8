import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecisionEvent } from './decision-event.interface.js';
import { ECS_VERSION, ecsJsonBody, toEcsEvent } from './ecs.js';

// Allowed values of the ECS 8.x categorization fields (elastic/ecs schemas/event.yml).
const KINDS = ['alert', 'enrichment', 'event', 'metric', 'state', 'pipeline_error', 'signal'];
const CATEGORIES = [
  'api',
  'authentication',
  'configuration',
  'database',
  'driver',
  'email',
  'file',
  'host',
  'iam',
  'intrusion_detection',
  'library',
  'malware',
  'network',
  'package',
  'process',
  'registry',
  'session',
  'threat',
  'vulnerability',
  'web',
];
const TYPES = [
  'access',
  'admin',
  'allowed',
  'change',
  'connection',
  'creation',
  'deletion',
  'denied',
  'end',
  'error',
  'group',
  'indicator',
  'info',
  'installation',
  'protocol',
  'start',
  'user',
];
// The top-level field sets an event may use: all ECS, plus `labels` (ECS too).
const FIELD_SETS = [
  '@timestamp',
  'ecs',
  'log',
  'message',
  'event',
  'user',
  'service',
  'source',
  'url',
  'http',
  'trace',
  'rule',
  'labels',
];

const base: DecisionEvent = {
  time: '2026-08-21T10:00:00.000Z',
  action: 'authn_token_valid',
  outcome: 'success',
  decision: 'allow',
  mode: 'enforce',
  request: { id: 'req-1', method: 'GET', route: '/invoices/:id', ip: '81.2.69.142' },
};

function checkCategorization(ecs: ReturnType<typeof toEcsEvent>): void {
  expect(KINDS).toContain(ecs.event.kind);
  for (const c of ecs.event.category) expect(CATEGORIES).toContain(c);
  for (const t of ecs.event.type) expect(TYPES).toContain(t);
  expect(['success', 'failure', 'unknown']).toContain(ecs.event.outcome);
  for (const key of Object.keys(ecs)) expect(FIELD_SETS).toContain(key);
  for (const value of Object.values(ecs.labels)) expect(typeof value).toBe('string');
}

describe('toEcsEvent', () => {
  it('maps an authentication success of a user', () => {
    const ecs = toEcsEvent({
      ...base,
      principal: { kind: 'user', id: 'alice' },
      roles: ['accountant'],
    });
    checkCategorization(ecs);
    expect(ecs).toMatchObject({
      '@timestamp': '2026-08-21T10:00:00.000Z',
      ecs: { version: ECS_VERSION },
      log: { level: 'info' },
      event: {
        kind: 'event',
        category: ['authentication'],
        type: ['start'],
        outcome: 'success',
        action: 'authn_token_valid',
      },
      user: { id: 'alice', roles: ['accountant'] },
      source: { ip: '81.2.69.142' },
      url: { path: '/invoices/:id' },
      http: { request: { id: 'req-1', method: 'GET' } },
      trace: { id: 'req-1' },
      labels: { decision: 'allow', mode: 'enforce', principal_kind: 'user' },
    });
    expect(ecs.service).toBeUndefined();
  });

  it('maps an invalid token (no principal) to a failed authentication at warn level', () => {
    const ecs = toEcsEvent({
      ...base,
      action: 'authn_token_invalid',
      outcome: 'failure',
      decision: 'deny',
      code: 'ZT_TOKEN_EXPIRED',
      reason: 'The access token has expired',
    });
    checkCategorization(ecs);
    expect(ecs.log.level).toBe('warn');
    expect(ecs.event).toMatchObject({
      category: ['authentication'],
      outcome: 'failure',
      action: 'authn_token_invalid',
      reason: 'The access token has expired',
      code: 'ZT_TOKEN_EXPIRED',
    });
    expect(ecs.user).toBeUndefined();
    expect(ecs.labels.owasp_event).toBe('authn_token_invalid:anonymous,GET /invoices/:id');
  });

  it('maps an authorization denial of a service with the rule, risk and geo', () => {
    const ecs = toEcsEvent(
      {
        ...base,
        action: 'authz_fail',
        outcome: 'failure',
        decision: 'deny',
        code: 'ZT_ACCESS_DENIED',
        principal: { kind: 'service', id: 'billing-worker' },
        roles: ['billing'],
        authorization: { action: 'read', subject: 'Invoice', subjectId: 'inv-2' },
        rule: { kind: 'none', description: 'no rule grants read on Invoice' },
        risk: { score: 72, reasons: [{ signal: 'new_device', score: 72, reason: 'new device' }] },
        geo: { country_iso_code: 'GB', city_name: 'London' },
      },
      'demo-api',
    );
    checkCategorization(ecs);
    expect(ecs).toMatchObject({
      event: {
        kind: 'event',
        category: ['web'],
        type: ['access', 'denied'],
        outcome: 'failure',
        action: 'authz_fail',
        risk_score: 72,
        risk_score_norm: 72,
      },
      service: { name: 'billing-worker' },
      source: { ip: '81.2.69.142', geo: { country_iso_code: 'GB', city_name: 'London' } },
      rule: { name: 'none', description: 'no rule grants read on Invoice' },
      labels: {
        decision: 'deny',
        rule: 'none',
        principal_kind: 'service',
        service_roles: 'billing',
        authz_action: 'read',
        authz_subject: 'Invoice',
        authz_subject_id: 'inv-2',
        application: 'demo-api',
        owasp_event: 'authz_fail:service:billing-worker,read Invoice',
      },
    });
    expect(ecs.user).toBeUndefined();
  });

  it('labels a report-only denial as would-deny and an allowed authorization as allowed', () => {
    const wouldDeny = toEcsEvent({
      ...base,
      action: 'authz_fail',
      outcome: 'failure',
      decision: 'would-deny',
      mode: 'report-only',
      authorization: { action: 'delete', subject: 'Invoice' },
    });
    checkCategorization(wouldDeny);
    expect(wouldDeny.labels).toMatchObject({ decision: 'would-deny', mode: 'report-only' });
    expect(wouldDeny.event.type).toEqual(['access', 'denied']);
    const allowed = toEcsEvent({
      ...base,
      action: 'authz_success',
      authorization: { action: 'read', subject: 'Invoice' },
    });
    expect(allowed.event.type).toEqual(['access', 'allowed']);
  });

  it('makes impossible travel and malicious_* events alerts', () => {
    const travel = toEcsEvent({
      ...base,
      action: 'authn_impossible_travel',
      outcome: 'failure',
      decision: 'deny',
    });
    checkCategorization(travel);
    expect(travel.event).toMatchObject({ kind: 'alert', category: ['authentication'] });
    const malicious = toEcsEvent({
      ...base,
      action: 'malicious_excess_404',
      outcome: 'failure',
      decision: 'deny',
    });
    checkCategorization(malicious);
    expect(malicious.event).toMatchObject({
      kind: 'alert',
      category: ['intrusion_detection'],
      type: ['denied'],
    });
    const rate = toEcsEvent({
      ...base,
      action: 'excess_rate_limit_exceeded',
      outcome: 'failure',
      decision: 'deny',
    });
    checkCategorization(rate);
    expect(rate.event.kind).toBe('event');
  });
});

describe('ecsJsonBody', () => {
  // Any text, including quotes, backslashes, control characters and lone surrogates.
  const text = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.constantFrom('', '"', '\\', '\u2028', '\ud800'),
  );
  const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
  const event: fc.Arbitrary<DecisionEvent> = fc.record(
    {
      time: text,
      action: fc.oneof(
        text,
        fc.constantFrom(
          'authn_token_valid',
          'authz_success',
          'authz_fail',
          'risk_assessed',
          'malicious_sqli',
          'authn_impossible_travel',
          'excess_rate_limit_exceeded',
          'session_device_mismatch',
        ),
      ),
      outcome: fc.constantFrom('success', 'failure'),
      decision: fc.constantFrom('allow', 'deny', 'would-deny', 'step-up', 'would-step-up'),
      code: optional(fc.constantFrom('ZT_ACCESS_DENIED', 'ZT_TOKEN_EXPIRED', 'ZT_RISK_DENIED')),
      reason: optional(text),
      mode: fc.constantFrom('enforce', 'report-only'),
      principal: optional(
        fc.record({ kind: fc.constantFrom('user', 'service', 'integration'), id: text }),
      ),
      request: fc.record(
        { id: text, method: text, route: text, ip: optional(text) },
        { requiredKeys: ['id', 'method', 'route'] },
      ),
      authorization: optional(
        fc.record(
          {
            action: text,
            subject: text,
            subjectId: optional(text),
            fields: optional(fc.array(text)),
          },
          { requiredKeys: ['action', 'subject'] },
        ),
      ),
      roles: optional(
        fc.oneof(
          fc.array(text),
          fc.array(text).map((r) => Object.freeze(r)),
        ),
      ),
      rule: optional(
        fc.record(
          {
            kind: fc.constantFrom('inverted', 'conditions', 'fields', 'none'),
            description: text,
            reason: optional(text),
          },
          { requiredKeys: ['kind', 'description'] },
        ),
      ),
      risk: optional(
        fc.record({
          score: fc.oneof(fc.integer({ min: -10, max: 200 }), fc.double()),
          reasons: fc.constant([]),
        }),
      ),
      geo: optional(
        fc.record(
          {
            country_iso_code: optional(text),
            city_name: optional(text),
            location: optional(fc.record({ lat: fc.double(), lon: fc.double() })),
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: ['time', 'action', 'outcome', 'decision', 'mode', 'request'] },
  ) as fc.Arbitrary<DecisionEvent>;

  it('writes exactly JSON.stringify(toEcsEvent(...)), message included, for any event', () => {
    fc.assert(
      fc.property(event, optional(text), (one, service) => {
        const { body, message } = ecsJsonBody(one, service);
        const expected = toEcsEvent(one, service);
        expect(`{${body}}`).toBe(JSON.stringify(expected));
        expect(message).toBe(expected.message);
      }),
      { numRuns: 2000 },
    );
  });

  it('stays exact when events share request objects and roles arrays that change between them', () => {
    // What the audit service does (one request object per request, a verified principal's
    // frozen roles on every event), plus a listener changing a shared request in between.
    const step = fc.record({
      which: fc.nat(2),
      roles: fc.nat(2),
      id: fc.constantFrom('alice', 'bob'),
      change: fc.option(fc.constantFrom('id', 'method', 'route'), { nil: undefined }),
      value: text,
      template: event,
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 20 }), (steps) => {
        const requests = [0, 1, 2].map((n) => ({ id: `r${n}`, method: 'GET', route: '/x' }));
        const roles = [Object.freeze(['a']), Object.freeze(['b', 'c']), Object.freeze([])];
        for (const { which, roles: r, id, change, value, template } of steps) {
          const request = requests[which] as { id: string; method: string; route: string };
          if (change !== undefined) request[change] = value;
          const one: DecisionEvent = {
            ...template,
            request,
            principal: { kind: 'user', id },
            roles: roles[r],
          };
          expect(`{${ecsJsonBody(one).body}}`).toBe(JSON.stringify(toEcsEvent(one)));
        }
      }),
      { numRuns: 500 },
    );
  });
});
