import { compact } from '../utils/compact.js';
import type { DecisionEvent, DecisionStage } from './decision-event.interface.js';

/** The ECS version the events follow. @publicApi */
export const ECS_VERSION = '8.11.0';

/** A decision event in Elastic Common Schema, ready to be written as one JSON line. @publicApi */
export interface EcsEvent {
  '@timestamp': string;
  ecs: { version: string };
  log: { level: 'info' | 'warn' };
  message: string;
  event: {
    kind: 'event' | 'alert';
    category: string[];
    type: string[];
    outcome: 'success' | 'failure' | 'unknown';
    action: string;
    reason?: string;
    code?: string;
    risk_score?: number;
    risk_score_norm?: number;
  };
  user?: { id: string; roles?: string[] };
  service?: { name: string };
  source?: { ip?: string; geo?: NonNullable<DecisionEvent['geo']> };
  url: { path: string };
  http: { request: { id: string; method: string } };
  trace: { id: string };
  rule?: { name: string; description: string };
  tls?: { client: { hash: { sha256: string } } };
  labels: Record<string, string>;
  /** What ECS has no field for: each stage of the decision, the client, DPoP key and device. */
  zero_trust?: { stages?: DecisionStage[]; client_id?: string; dpop_jkt?: string; device?: string };
}

/** Alerts: events a SOC should look at even when the request was refused as it should be. */
const ALERTS = /^(malicious_|authn_impossible_travel$|authn_token_reuse$)/;

function categorize({ action, decision }: DecisionEvent) {
  const kind: EcsEvent['event']['kind'] = ALERTS.test(action) ? 'alert' : 'event';
  const allowed = decision === 'allow';
  if (action.startsWith('malicious_'))
    return { kind, category: ['intrusion_detection'], type: [allowed ? 'info' : 'denied'] };
  // Events about the caller's identity, as opposed to what it may do.
  if (/^(authn|session)_/.test(action)) {
    const type =
      action === 'authn_impossible_travel' ? 'info' : action.endsWith('expired') ? 'end' : 'start';
    return { kind, category: ['authentication'], type: [type] };
  }
  if (action.startsWith('excess_')) return { kind, category: ['web'], type: ['access', 'denied'] };
  // Authorization (authz_*) and anything else about a request reaching a resource.
  return { kind, category: ['web'], type: ['access', allowed ? 'allowed' : 'denied'] };
}

const hex = (base64url: string): string => Buffer.from(base64url, 'base64url').toString('hex');

/** Maps a {@link DecisionEvent} to one ECS event (`event.action` in OWASP terms). @publicApi */
export function toEcsEvent(event: DecisionEvent, serviceName?: string): EcsEvent {
  const { principal, authorization: authz, request, rule, binding } = event;
  const who = principal ? `${principal.kind}:${principal.id}` : 'anonymous';
  const what = authz ? `${authz.action} ${authz.subject}` : `${request.method} ${request.route}`;
  const service = principal !== undefined && principal.kind !== 'user';
  const category = categorize(event);
  const labels = compact({
    decision: event.decision,
    mode: event.mode,
    principal_kind: principal?.kind,
    rule: rule?.kind,
    authz_action: authz?.action,
    authz_subject: authz?.subject,
    authz_subject_id: authz?.subjectId,
    authz_fields: authz?.fields?.length ? authz.fields.join(',') : undefined,
    application: serviceName,
    owasp_event: `${event.action}:${who},${what}`,
    service_roles: service ? event.roles?.join(',') : undefined,
  });
  const zeroTrust = compact({
    stages: event.stages,
    client_id: principal?.client,
    dpop_jkt: binding?.dpop,
    device: event.device,
  });
  return compact<EcsEvent>({
    '@timestamp': event.time,
    ecs: { version: ECS_VERSION },
    log: { level: event.decision === 'allow' ? 'info' : 'warn' },
    message: `${event.action} ${event.decision} ${what}${event.reason ? `: ${event.reason}` : ''}`,
    event: compact({
      // Named one by one: spreading an object before other members is slow in V8.
      kind: category.kind,
      category: category.category,
      type: category.type,
      outcome: event.outcome,
      action: event.action,
      reason: event.reason,
      code: event.code,
      risk_score: event.risk?.score,
      risk_score_norm: event.risk && Math.max(0, Math.min(100, event.risk.score)),
    }),
    url: { path: request.route },
    http: { request: { id: request.id, method: request.method } },
    trace: { id: request.id },
    labels,
    user:
      principal?.kind === 'user'
        ? compact({ id: principal.id, roles: event.roles && [...event.roles] })
        : undefined,
    service: service ? { name: principal.id } : undefined,
    source:
      request.ip !== undefined || event.geo !== undefined
        ? compact({ ip: request.ip, geo: event.geo })
        : undefined,
    rule: rule && {
      name: rule.kind,
      description:
        rule.reason !== undefined ? `${rule.description} (${rule.reason})` : rule.description,
    },
    zero_trust: Object.keys(zeroTrust).length > 0 ? zeroTrust : undefined,
    tls: binding?.certificate
      ? { client: { hash: { sha256: hex(binding.certificate) } } }
      : undefined,
  });
}
