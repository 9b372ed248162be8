import { describe, expect, it } from 'vitest';
import type { DecisionEvent } from './decision-event.interface.js';
import { ECS_VERSION, toEcsEvent } from './ecs.js';

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
  'tls',
  'labels',
  // Custom fields, in their own namespace as ECS asks.
  'zero_trust',
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

  it('maps a decision record: every stage, the client, the certificate and the DPoP key', () => {
    const stages: NonNullable<DecisionEvent['stages']> = [
      { action: 'authn_token_valid', decision: 'allow', mode: 'enforce' },
      {
        action: 'authz_success',
        decision: 'allow',
        mode: 'enforce',
        authorization: { action: 'read', subject: 'Invoice' },
        rule: { kind: 'granted', description: 'can read Invoice' },
      },
    ];
    const ecs = toEcsEvent({
      ...base,
      action: 'authz_success',
      principal: { kind: 'service', id: 'billing-worker', client: 'billing' },
      binding: { certificate: Buffer.from('der-sha256').toString('base64url'), dpop: 'jkt-1' },
      device: 'laptop-7',
      stages,
    });
    checkCategorization(ecs);
    expect(ecs.event.action).toBe('authz_success');
    expect(ecs.tls?.client.hash.sha256).toBe(Buffer.from('der-sha256').toString('hex'));
    expect(ecs.zero_trust).toEqual({
      stages,
      client_id: 'billing',
      dpop_jkt: 'jkt-1',
      device: 'laptop-7',
    });
  });
});
