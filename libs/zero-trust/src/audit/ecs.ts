import type { DecisionEvent } from './decision-event.interface.js';

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
  labels: Record<string, string>;
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
    // Frozen roles (a verified principal's) are shared; others are copied.
    if (event.roles !== undefined)
      ecs.user.roles = Object.isFrozen(event.roles) ? (event.roles as string[]) : [...event.roles];
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
  return ecs;
}

/**
 * A string as JSON: quoted as is when nothing in it needs escaping (the common case), else
 * through `JSON.stringify`. Escaped or rewritten are the quote, the backslash, controls below
 * U+0020 and lone surrogates; any surrogate sends the string to `JSON.stringify`. A loop over
 * the code units: most values are a few characters long, where entering the regular-expression
 * engine cost more than the scan (about a third of the serialization, measured).
 */
function str(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
      return JSON.stringify(value);
    }
  }
  return `"${value}"`;
}

function num(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

function strings(values: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i > 0 ? ',' : '') + str(values[i] as string);
  return `${out}]`;
}

/** Bound of each memo below: past it, fragments are built every time (custom actions, say). */
const MEMO_MAX = 256;

/**
 * The `"event":{…}` fragment of an event with no reason or code: a function of its action,
 * decision, outcome and risk score alone, so remembered (allows are all of this kind, and a
 * risk assessment's score takes few values).
 */
const plainEventFragments = new Map<string, string>();

function eventFragment(event: DecisionEvent): string {
  const plain = event.reason === undefined && event.code === undefined;
  const key = plain
    ? `${event.action} ${event.decision} ${event.outcome}${event.risk ? ` ${event.risk.score}` : ''}`
    : undefined;
  if (key !== undefined) {
    const known = plainEventFragments.get(key);
    if (known !== undefined) return known;
  }
  const { kind, category, type } = categorize(event);
  let ecsEvent = `"kind":${str(kind)},"category":${strings(category)},"type":${strings(type)},"outcome":${str(event.outcome)},"action":${str(event.action)}`;
  if (event.reason !== undefined) ecsEvent += `,"reason":${str(event.reason)}`;
  if (event.code !== undefined) ecsEvent += `,"code":${str(event.code)}`;
  if (event.risk) {
    ecsEvent += `,"risk_score":${num(event.risk.score)},"risk_score_norm":${num(Math.max(0, Math.min(100, event.risk.score)))}`;
  }
  const fragment = `"event":{${ecsEvent}}`;
  if (key !== undefined && plainEventFragments.size < MEMO_MAX)
    plainEventFragments.set(key, fragment);
  return fragment;
}

/**
 * Where the request fragment of an event is kept: on its `request` object, which the audit
 * service shares between the events of one request.
 */
const REQUEST_FRAGMENT = Symbol('zero-trust:ecs-request-fragment');

type RequestWithFragment = DecisionEvent['request'] & {
  [REQUEST_FRAGMENT]?: { id: string; method: string; route: string; json: string };
};

/** `"url":…,"http":…,"trace":…` of an event, built once per request object while it is unchanged. */
function requestFragment(event: DecisionEvent): string {
  const request = event.request as RequestWithFragment;
  const known = request[REQUEST_FRAGMENT];
  if (
    known !== undefined &&
    known.id === request.id &&
    known.method === request.method &&
    known.route === request.route
  )
    return known.json;
  const id = str(request.id);
  const json = `"url":{"path":${str(request.route)}},"http":{"request":{"id":${id},"method":${str(request.method)}}},"trace":{"id":${id}}`;
  request[REQUEST_FRAGMENT] = {
    id: request.id,
    method: request.method,
    route: request.route,
    json,
  };
  return json;
}

/**
 * `,"user":{…}` of a user event, remembered per (frozen, shared) roles array of a verified
 * principal: the same user on every request of a cached token.
 */
const userFragments = new WeakMap<readonly string[], { id: string; json: string }>();

function userFragment(id: string, roles: readonly string[] | undefined): string {
  const shared = roles !== undefined && Object.isFrozen(roles);
  if (shared) {
    const known = userFragments.get(roles);
    if (known !== undefined && known.id === id) return known.json;
  }
  let json = `,"user":{"id":${str(id)}`;
  if (roles !== undefined) json += `,"roles":${strings(roles)}`;
  json += '}';
  if (shared) userFragments.set(roles, { id, json });
  return json;
}

/**
 * The ECS event of {@link toEcsEvent} as JSON, without its braces, and its `message`: the same
 * text as `JSON.stringify(toEcsEvent(event, serviceName))` (a property test holds them equal),
 * written directly instead of building the object first, with the fragments that repeat from
 * event to event (the request's, the user's, an allow's `event`) remembered. Used by the pino
 * sink, on the path of every decision.
 *
 * @internal
 */
export function ecsJsonBody(
  event: DecisionEvent,
  serviceName?: string,
): { body: string; message: string } {
  const denied = event.decision !== 'allow';
  const who = principalLabel(event) ?? 'anonymous';
  const authorization = event.authorization;
  const what = authorization
    ? `${authorization.action} ${authorization.subject}`
    : `${event.request.method} ${event.request.route}`;
  const message = `${event.action} ${event.decision} ${what}${event.reason ? `: ${event.reason}` : ''}`;

  let labels = `"decision":${str(event.decision)},"mode":${str(event.mode)}`;
  if (event.principal) labels += `,"principal_kind":${str(event.principal.kind)}`;
  if (event.rule) labels += `,"rule":${str(event.rule.kind)}`;
  if (authorization) {
    labels += `,"authz_action":${str(authorization.action)},"authz_subject":${str(authorization.subject)}`;
    if (authorization.subjectId !== undefined)
      labels += `,"authz_subject_id":${str(authorization.subjectId)}`;
    if (authorization.fields?.length)
      labels += `,"authz_fields":${str(authorization.fields.join(','))}`;
  }
  if (serviceName !== undefined) labels += `,"application":${str(serviceName)}`;
  labels += `,"owasp_event":${str(`${event.action}:${who},${what}`)}`;
  const isUser = event.principal?.kind === 'user';
  if (event.principal && !isUser && event.roles !== undefined)
    labels += `,"service_roles":${str(event.roles.join(','))}`;

  let body =
    `"@timestamp":${str(event.time)},"ecs":{"version":"${ECS_VERSION}"},"log":{"level":"${denied ? 'warn' : 'info'}"},` +
    `"message":${str(message)},${eventFragment(event)},${requestFragment(event)},"labels":{${labels}}`;
  if (isUser) {
    body += userFragment((event.principal as { id: string }).id, event.roles);
  } else if (event.principal) {
    body += `,"service":{"name":${str(event.principal.id)}}`;
  }
  if (event.request.ip !== undefined || event.geo !== undefined) {
    const parts: string[] = [];
    if (event.request.ip !== undefined) parts.push(`"ip":${str(event.request.ip)}`);
    if (event.geo !== undefined) parts.push(`"geo":${JSON.stringify(event.geo)}`);
    body += `,"source":{${parts.join(',')}}`;
  }
  if (event.rule) {
    const description =
      event.rule.reason !== undefined
        ? `${event.rule.description} (${event.rule.reason})`
        : event.rule.description;
    body += `,"rule":{"name":${str(event.rule.kind)},"description":${str(description)}}`;
  }
  return { body, message };
}
