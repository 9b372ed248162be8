import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ZeroTrustMetrics } from './zero-trust.metrics.js';

function metricsOn(registry: Registry): ZeroTrustMetrics {
  return new ZeroTrustMetrics({
    monitoring: { metrics: { registry } } as never,
  });
}

async function total(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, unknown> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

const allow = { action: 'authn_token_valid', decision: 'allow' } as const;
const authz = (subject: string) =>
  ({
    action: 'authz_success',
    decision: 'allow',
    authorization: { action: 'read', subject },
  }) as const;

describe('ZeroTrustMetrics', () => {
  it('reports every decision exactly once, however often it is scraped', async () => {
    const registry = new Registry();
    const metrics = metricsOn(registry);
    for (let i = 0; i < 3; i++) metrics.observeDecision(allow);
    metrics.observeDecision({ ...allow, decision: 'deny', code: 'ZT_TOKEN_EXPIRED' });
    const name = 'zero_trust_authentication_total';
    expect(await total(registry, name, { result: 'success', reason: 'ok' })).toBe(3);
    expect(await total(registry, name, { result: 'success', reason: 'ok' })).toBe(3);
    expect(await total(registry, name, { result: 'failure', reason: 'ZT_TOKEN_EXPIRED' })).toBe(1);
    metrics.observeDecision(allow);
    metrics.observeDecision(allow);
    // The Prometheus text a scrape serves carries the same counts.
    const text = (await metrics.scrape()).body;
    expect(text).toContain('zero_trust_authentication_total{result="success",reason="ok"} 5');
    expect(await total(registry, name, { result: 'success', reason: 'ok' })).toBe(5);
  });

  it('counts two module instances on one registry into the same counters', async () => {
    const registry = new Registry();
    const first = metricsOn(registry);
    const second = metricsOn(registry);
    first.observeDecision(authz('Invoice'));
    second.observeDecision(authz('Invoice'));
    second.observeDecision(authz('Report'));
    const name = 'zero_trust_authorization_decisions_total';
    expect(await total(registry, name, { subject: 'Invoice' })).toBe(2);
    expect(await total(registry, name, { subject: 'Report' })).toBe(1);
  });

  it('counts into a counter of the same name that it did not create', async () => {
    const registry = new Registry();
    const own = new Counter({
      name: 'zero_trust_authentication_total',
      help: 'created by the application',
      labelNames: ['result', 'reason'],
      registers: [registry],
    });
    const metrics = metricsOn(registry);
    expect(registry.getSingleMetric('zero_trust_authentication_total')).toBe(own);
    metrics.observeDecision(allow);
    metrics.observeDecision(allow);
    const name = 'zero_trust_authentication_total';
    expect(await total(registry, name, { result: 'success' })).toBe(2);
  });
});
