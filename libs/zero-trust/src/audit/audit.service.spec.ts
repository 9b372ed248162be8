import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import { createTestPrincipal } from '../testing/ability-testing.js';
import { validateOptions } from '../options/validate-options.js';
import type { AuditSink } from './audit-sink.interface.js';
import { AuditService, type DecisionInput } from './audit.service.js';
import type { DecisionEvent } from './decision-event.interface.js';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';

function setup(audit: Record<string, unknown>, sink: AuditSink) {
  const options = validateOptions({ issuer: 'http://127.0.0.1:1', audience: 'api', audit });
  const registry = new Registry();
  const metrics = new ZeroTrustMetrics({
    monitoring: { ...options.monitoring, metrics: { registry } },
  });
  return { service: new AuditService(sink, options, metrics), registry };
}

function context(): ZeroTrustRequestContext {
  return {
    requestId: 'req-1',
    time: new Date(0),
    ip: '127.0.0.1',
    peer: '127.0.0.1',
    method: 'GET',
    route: '/invoices',
    principal: createTestPrincipal({ id: 'alice', roles: ['accountant'] }),
    resources: new Map(),
    resolved: new Map(),
  };
}

const deny: DecisionInput = {
  action: 'authz_fail',
  decision: 'deny',
  mode: 'enforce',
  code: 'ZT_ACCESS_DENIED',
  authorization: { action: 'read', subject: 'Invoice' },
};
const allow: DecisionInput = {
  action: 'authz_success',
  decision: 'allow',
  mode: 'enforce',
  authorization: { action: 'read', subject: 'Invoice' },
};

/** Records `input` as the whole decision of a new request (one stage, then the last guard). */
function decide(service: AuditService, input: DecisionInput): void {
  const request = context();
  service.record(request, input);
  service.finish(request);
}

class Recording implements AuditSink {
  readonly events: DecisionEvent[] = [];
  write(event: DecisionEvent): void {
    this.events.push(event);
  }
}

/** A sink that never finishes a write until released: the slowest sink there is. */
class StuckSink implements AuditSink {
  writes = 0;
  private releases: (() => void)[] = [];
  write(): Promise<void> {
    this.writes += 1;
    return new Promise((resolve) => this.releases.push(resolve));
  }
  release(): void {
    for (const release of this.releases.splice(0)) release();
  }
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const entry = (
    (metric?.values ?? []) as { value: number; labels: Record<string, unknown> }[]
  ).find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return entry?.value;
}

describe('AuditService', () => {
  it('writes one decision record per request, with every stage, when the last guard allowed', async () => {
    const sink = new Recording();
    const { service } = setup({}, sink);
    const request = context();
    const risk = { score: 10, reasons: [] };
    service.record(request, { action: 'authn_token_valid', decision: 'allow', mode: 'enforce' });
    service.record(request, {
      ...allow,
      rule: { kind: 'granted', description: 'can read Invoice' },
    });
    service.record(request, { ...allow, action: 'risk_assessed', authorization: undefined, risk });
    await service.flush();
    expect(sink.events).toHaveLength(0);
    service.finish(request);
    service.finish(request);
    await service.flush();
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({
      action: 'risk_assessed',
      decision: 'allow',
      outcome: 'success',
      principal: { kind: 'user', id: 'alice' },
      authorization: { action: 'read', subject: 'Invoice' },
      risk,
      request: { id: 'req-1', route: '/invoices' },
      stages: [
        { action: 'authn_token_valid', decision: 'allow' },
        {
          action: 'authz_success',
          decision: 'allow',
          rule: { kind: 'granted', description: 'can read Invoice' },
        },
        { action: 'risk_assessed', decision: 'allow' },
      ],
    });
  });

  it('writes the record at the first refusal; a would-deny stays in it; findings are their own events', async () => {
    const sink = new Recording();
    const { service } = setup({}, sink);
    const request = context();
    service.record(request, { action: 'authn_token_valid', decision: 'allow', mode: 'enforce' });
    service.record(request, { ...deny, decision: 'would-deny', mode: 'report-only' });
    service.record(request, {
      action: 'authn_impossible_travel',
      decision: 'deny',
      mode: 'enforce',
      finding: 'impossible_travel',
    });
    service.record(request, {
      action: 'authz_fail',
      decision: 'deny',
      mode: 'enforce',
      code: 'ZT_RISK_DENIED',
    });
    service.finish(request);
    await service.flush();
    expect(sink.events.map((e) => [e.action, e.decision, e.stages?.length])).toEqual([
      ['authn_impossible_travel', 'deny', undefined],
      // The deciding stage is the first that refused or would have.
      ['authz_fail', 'would-deny', 3],
    ]);
    expect(sink.events[1]?.stages?.map((stage) => stage.decision)).toEqual([
      'allow',
      'would-deny',
      'deny',
    ]);
    // A refusal after the record was written (a guard installed after the module's) is a
    // record of its own.
    service.record(request, {
      action: 'excess_rate_limit_exceeded',
      decision: 'deny',
      mode: 'enforce',
    });
    await service.flush();
    expect(sink.events.at(-1)?.stages).toEqual([
      { action: 'excess_rate_limit_exceeded', decision: 'deny', mode: 'enforce' },
    ]);
  });

  it('writes the stages a request passed when it ends refused by what no stage records', async () => {
    const sink = new Recording();
    const { service } = setup({}, sink);
    const request = context();
    const response = new EventEmitter();
    service.finishOnClose(request, { raw: response });
    service.record(request, { action: 'authn_token_valid', decision: 'allow', mode: 'enforce' });
    // e.g. the risk engine answers 503: no further stage, no last guard.
    response.emit('close');
    await service.flush();
    expect(sink.events.map((e) => e.stages?.map((stage) => stage.action))).toEqual([
      ['authn_token_valid'],
    ]);
  });

  it('writes off the request path: record returns before the sink sees the event', async () => {
    const sink = new Recording();
    const { service } = setup({}, sink);
    service.record(context(), deny);
    expect(sink.events).toHaveLength(0);
    await service.flush();
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({
      action: 'authz_fail',
      principal: { kind: 'user', id: 'alice' },
      roles: ['accountant'],
      request: { id: 'req-1', method: 'GET', route: '/invoices', ip: '127.0.0.1' },
    });
  });

  it("writes events of several requests in one batch, in no request's async context", async () => {
    const storage = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    const sink: AuditSink = {
      write: (event) => {
        seen.push(`${event.action}@${storage.getStore() ?? 'none'}`);
      },
    };
    const { service } = setup({}, sink);
    storage.run('request-a', () => service.record(context(), deny));
    storage.run('request-b', () => decide(service, allow));
    expect(service.pending).toBe(2);
    await service.flush();
    expect(seen).toEqual(['authz_fail@none', 'authz_success@none']);
    expect(service.pending).toBe(0);
  });

  it('drops and counts events beyond the buffer while a sink is stuck, without waiting', async () => {
    const sink = new StuckSink();
    const { service, registry } = setup({ bufferSize: 10 }, sink);
    for (let i = 0; i < 1000; i++) service.record(context(), deny);
    // The first event is taken by the drain loop after this tick; until then all wait.
    expect(service.pending).toBe(10);
    expect(service.dropped).toBe(990);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.writes).toBe(1);
    expect(service.pending).toBe(9);
    for (let i = 0; i < 5; i++) service.record(context(), deny);
    expect(service.dropped).toBe(994);
    expect(await value(registry, 'zero_trust_audit_events_dropped_total')).toBe(994);
    // Every decision is counted in the metrics, written or dropped.
    expect(
      await value(registry, 'zero_trust_authorization_decisions_total', { decision: 'deny' }),
    ).toBe(1005);
    // Released, the sink drains the buffer.
    const releasing = setInterval(() => sink.release(), 1);
    await service.flush();
    clearInterval(releasing);
    expect(sink.writes).toBe(11);
    expect(service.pending).toBe(0);
  });

  it('counts a failing sink write as dropped and goes on', async () => {
    let calls = 0;
    const { service } = setup(
      {},
      {
        write: () => {
          calls += 1;
          if (calls === 1) throw new Error('disk full');
          return Promise.reject(new Error('collector down'));
        },
      },
    );
    service.record(context(), deny);
    service.record(context(), deny);
    await service.flush();
    expect(calls).toBe(2);
    expect(service.dropped).toBe(2);
  });

  it('emits allows per audit.allows: all, none, or a sample; denies always', async () => {
    const none = new Recording();
    const off = setup({ allows: false }, none).service;
    decide(off, allow);
    off.record(context(), deny);
    await off.flush();
    expect(none.events.map((e) => e.decision)).toEqual(['deny']);

    const sampled = new Recording();
    const { service, registry } = setup({ allows: { sampleRate: 0.25 } }, sampled);
    // Pin the coin: every fourth allow is emitted.
    let n = 0;
    const random = vi.spyOn(Math, 'random').mockImplementation(() => (n++ % 4 === 0 ? 0 : 0.5));
    for (let i = 0; i < 8; i++) decide(service, allow);
    random.mockRestore();
    service.record(context(), deny);
    await service.flush();
    expect(sampled.events.map((e) => e.decision)).toEqual(['allow', 'allow', 'deny']);
    expect(
      await value(registry, 'zero_trust_authorization_decisions_total', { decision: 'allow' }),
    ).toBe(8);
  });

  it('counts authentication results by reason and observes risk scores', async () => {
    const { service, registry } = setup({}, new Recording());
    service.record(context(), { action: 'authn_token_valid', decision: 'allow', mode: 'enforce' });
    service.record(context(), {
      action: 'authn_token_invalid',
      decision: 'deny',
      mode: 'enforce',
      code: 'ZT_TOKEN_EXPIRED',
    });
    const risk = {
      score: 35,
      reasons: [
        { signal: 'geolocation', score: 35, reason: 'London to Changchun in 1 h' },
        { signal: 'device', score: 0, reason: 'known device' },
      ],
    };
    // the request's decision (observed once in the histogram) and the finding it reported
    service.record(context(), { ...allow, action: 'risk_assessed', risk });
    service.record(context(), {
      ...allow,
      action: 'authn_impossible_travel',
      risk,
      finding: 'impossible_travel',
    });
    expect(
      await value(registry, 'zero_trust_authentication_total', { result: 'success', reason: 'ok' }),
    ).toBe(1);
    expect(
      await value(registry, 'zero_trust_authentication_total', {
        result: 'failure',
        reason: 'ZT_TOKEN_EXPIRED',
      }),
    ).toBe(1);
    expect(
      await value(registry, 'zero_trust_risk_signals_total', { signal: 'impossible_travel' }),
    ).toBe(1);
    expect(await value(registry, 'zero_trust_risk_signals_total', { signal: 'device' })).toBe(
      undefined,
    );
    const text = await registry.metrics();
    expect(text).toContain('zero_trust_risk_score_bucket{le="40"} 1');
    expect(text).toContain('zero_trust_risk_score_count 1');
    // a finding is not an authentication result
    expect(text).not.toContain('reason="ok"} 2');
    expect(text).not.toContain('alice');
  });
});

describe('AuditService shutdown', () => {
  it('does not wait forever for a stuck sink: what is left is counted as dropped', async () => {
    const sink = new StuckSink();
    const { service } = setup({}, sink);
    for (let i = 0; i < 3; i++) service.record(context(), deny);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.writes).toBe(1);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const shutdown = service.onApplicationShutdown();
      await vi.advanceTimersByTimeAsync(2000);
      await shutdown;
    } finally {
      vi.useRealTimers();
    }
    expect(service.pending).toBe(0);
    expect(service.dropped).toBe(2);
  });
});
