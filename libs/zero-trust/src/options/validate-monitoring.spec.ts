import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { validateAudit, validateMonitoring } from './validate-monitoring.js';

describe('validateAudit', () => {
  it('applies defaults', () => {
    const problems: string[] = [];
    expect(validateAudit(undefined, problems)).toEqual({
      sink: undefined,
      allowSampleRate: 1,
      allows: true,
      bufferSize: 10_000,
      serviceName: undefined,
    });
    expect(problems).toEqual([]);
  });

  it('accepts a sample rate and turns a boolean into one', () => {
    expect(validateAudit({ allows: { sampleRate: 0.1 } }, []).allowSampleRate).toBe(0.1);
    expect(validateAudit({ allows: false }, [])).toMatchObject({
      allowSampleRate: 0,
      allows: false,
    });
  });

  it('lists every problem without echoing values', () => {
    const problems: string[] = [];
    validateAudit(
      {
        sink: {},
        allows: { sampleRate: 2 },
        bufferSize: 0,
        serviceName: 'secret value with spaces',
        extra: 1,
      },
      problems,
    );
    expect(problems).toEqual([
      'unknown option "audit.extra"',
      'audit.sink must implement AuditSink (write(event))',
      'audit.allows.sampleRate must be a number from 0 to 1',
      'audit.bufferSize must be a positive integer',
      'audit.serviceName must be 1 to 64 letters, digits, ".", "_" or "-"',
    ]);
    expect(problems.join()).not.toContain('secret value');
  });
});

describe('validateMonitoring', () => {
  it('applies defaults and accepts a registry, "global", a key age and explanations', () => {
    expect(validateMonitoring(undefined, [])).toEqual({
      metrics: { registry: undefined },
      health: { maxKeyAge: 3600 },
      explainDenials: false,
    });
    const registry = new Registry();
    const problems: string[] = [];
    expect(
      validateMonitoring(
        { metrics: { registry }, health: { maxKeyAge: 60 }, explainDenials: true },
        problems,
      ),
    ).toEqual({ metrics: { registry }, health: { maxKeyAge: 60 }, explainDenials: true });
    expect(validateMonitoring({ metrics: { registry: 'global' } }, []).metrics.registry).toBe(
      'global',
    );
    expect(problems).toEqual([]);
  });

  it('lists every problem', () => {
    const problems: string[] = [];
    validateMonitoring(
      { metrics: { registry: {} }, health: { maxKeyAge: -1 }, explainDenials: 'yes', other: 1 },
      problems,
    );
    expect(problems).toEqual([
      'unknown option "monitoring.other"',
      'monitoring.metrics.registry must be a prom-client Registry or "global"',
      'monitoring.health.maxKeyAge must be a positive number of seconds',
      'monitoring.explainDenials must be a boolean',
    ]);
  });
});
