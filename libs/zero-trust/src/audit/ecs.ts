import type { DecisionEvent, DecisionStage } from './decision-event.interface.js';

/**
 * The ECS version the events follow.
 *
 * @publicApi
 */
export const ECS_VERSION = '8.11.0';

/**
 * A decision event in Elastic Common Schema: nested objects with ECS field names, ready to be
 * written as one JSON line for Filebeat, Elastic Agent or any SIEM that reads ECS.
 *
 * @publicApi
 */
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
  zero_trust?: {
    stages?: DecisionStage[];
    client_id?: string;
    dpop_jkt?: string;
    device?: string;
  };
}

/** Events about the caller's identity, as opposed to what it may do. */
function isAuthentication(action: string): boolean {
  return action.startsWith('authn_') || action.startsWith('session_');
}

/** Alerts: events a SOC should look at even when the request was refused as it should be. */
function isAlert(action: string): boolean {
  return (
    action.startsWith('malicious_') ||
    action === 'authn_impossible_travel' ||
    action === 'authn_token_reuse'
  );
}

type Categorized = Pick<EcsEvent['event'], 'kind' | 'category' | 'type'>;

function categorize(event: DecisionEvent): Categorized {
  const allowed = event.decision === 'allow';
  const kind = isAlert(event.action) ? 'alert' : 'event';
  if (event.action.startsWith('malicious_')) {
    return { kind, category: ['intrusion_detection'], type: [allowed ? 'info' : 'denied'] };
  }
  if (isAuthentication(event.action)) {
    return {
      kind,
      category: ['authentication'],
      type: event.action === 'authn_impossible_travel' ? ['info'] : ['start'],
    };
  }
  if (event.action.startsWith('excess_')) {
    return { kind, category: ['web'], type: ['access', 'denied'] };
  }
  // Authorization (authz_*) and anything else about a request reaching a resource.
  return { kind, category: ['web'], type: ['access', allowed ? 'allowed' : 'denied'] };
}

function principalLabel(event: DecisionEvent): string | undefined {
  return event.principal && `${event.principal.kind}:${event.principal.id}`;
}

/**
 * Maps a {@link DecisionEvent} to one ECS event.
 *
 * - `event.action` keeps the OWASP logging vocabulary (`authn_token_invalid`, `authz_fail`, …);
 *   `labels.owasp_event` has the OWASP form `authz_fail:user,resource`.
 * - Users go to `user.*`; services and integrations to `service.name`; the kind to
 *   `labels.principal_kind`.
 * - The decision (`allow`, `deny`, `would-deny`), the matched rule and the mode (`enforce`,
 *   `report-only`) are labels, so dashboards can filter on them.
 * - A decision record's stages, OAuth client, DPoP key and device go to `zero_trust.*`; the
 *   client certificate's thumbprint to `tls.client.hash.sha256` (hex).
 *
 * Nothing of the token is in a decision event, so nothing of it can reach the ECS event.
 *
 * @publicApi
 */
export function toEcsEvent(event: DecisionEvent, serviceName?: string): EcsEvent {
  const denied = event.decision !== 'allow';
  const labels: Record<string, string> = {
    decision: event.decision,
    mode: event.mode,
  };
  if (event.principal) labels.principal_kind = event.principal.kind;
  if (event.rule) labels.rule = event.rule.kind;
  if (event.authorization) {
    labels.authz_action = event.authorization.action;
    labels.authz_subject = event.authorization.subject;
    if (event.authorization.subjectId !== undefined)
      labels.authz_subject_id = event.authorization.subjectId;
    if (event.authorization.fields?.length)
      labels.authz_fields = event.authorization.fields.join(',');
  }
  if (serviceName !== undefined) labels.application = serviceName;
  const who = principalLabel(event) ?? 'anonymous';
  const what = event.authorization
    ? `${event.authorization.action} ${event.authorization.subject}`
    : `${event.request.method} ${event.request.route}`;
  labels.owasp_event = `${event.action}:${who},${what}`;

  const { kind, category, type } = categorize(event);
  const ecsEvent: EcsEvent['event'] = {
    kind,
    category,
    type,
    outcome: event.outcome,
    action: event.action,
  };
  if (event.reason !== undefined) ecsEvent.reason = event.reason;
  if (event.code !== undefined) ecsEvent.code = event.code;
  if (event.risk) {
    ecsEvent.risk_score = event.risk.score;
    ecsEvent.risk_score_norm = Math.max(0, Math.min(100, event.risk.score));
  }
  const ecs: EcsEvent = {
    '@timestamp': event.time,
    ecs: { version: ECS_VERSION },
    log: { level: denied ? 'warn' : 'info' },
    message: `${event.action} ${event.decision} ${what}${event.reason ? `: ${event.reason}` : ''}`,
    event: ecsEvent,
    url: { path: event.request.route },
    http: { request: { id: event.request.id, method: event.request.method } },
    trace: { id: event.request.id },
    labels,
  };
  if (event.principal?.kind === 'user') {
    ecs.user = { id: event.principal.id };
    if (event.roles !== undefined) ecs.user.roles = [...event.roles];
  } else if (event.principal) {
    ecs.service = { name: event.principal.id };
    if (event.roles !== undefined) labels.service_roles = event.roles.join(',');
  }
  if (event.request.ip !== undefined || event.geo !== undefined) {
    ecs.source = {};
    if (event.request.ip !== undefined) ecs.source.ip = event.request.ip;
    if (event.geo !== undefined) ecs.source.geo = event.geo;
  }
  if (event.rule) {
    ecs.rule = {
      name: event.rule.kind,
      description:
        event.rule.reason !== undefined
          ? `${event.rule.description} (${event.rule.reason})`
          : event.rule.description,
    };
  }
  const extra: NonNullable<EcsEvent['zero_trust']> = {};
  if (event.stages !== undefined) extra.stages = event.stages;
  if (event.principal?.client !== undefined) extra.client_id = event.principal.client;
  if (event.binding?.dpop !== undefined) extra.dpop_jkt = event.binding.dpop;
  if (event.device !== undefined) extra.device = event.device;
  if (Object.keys(extra).length > 0) ecs.zero_trust = extra;
  if (event.binding?.certificate !== undefined) {
    const sha256 = Buffer.from(event.binding.certificate, 'base64url').toString('hex');
    ecs.tls = { client: { hash: { sha256 } } };
  }
  return ecs;
}
