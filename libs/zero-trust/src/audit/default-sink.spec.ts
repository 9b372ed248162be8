import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LoggerModule } from 'nestjs-pino';
import { Writable } from 'node:stream';
import { register, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ZeroTrustModule } from '../zero-trust.module.js';
import { AuditSink } from './audit-sink.interface.js';
import { LoggerAuditSink } from './logger-audit.sink.js';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import { PinoAuditSink } from './sinks/pino-audit.sink.js';

const base = { issuer: 'http://127.0.0.1:1', audience: 'api', strictRouteAudit: false };

async function sinkOf(imports: unknown[]): Promise<AuditSink> {
  @Module({ imports: imports as never[] })
  class App {}
  const moduleRef = await Test.createTestingModule({ imports: [App] }).compile();
  const sink = moduleRef.get<AuditSink>(AuditSink);
  await moduleRef.close();
  return sink;
}

describe('the default audit sink', () => {
  it("is nestjs-pino's logger when the app imports its LoggerModule", async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const sink = await sinkOf([
      LoggerModule.forRoot({ pinoHttp: [{ level: 'info' }, stream] }),
      ZeroTrustModule.forRoot(base),
    ]);
    expect(sink).toBeInstanceOf(PinoAuditSink);
    await sink.write({
      time: '2026-08-21T10:00:00.000Z',
      action: 'authn_token_missing',
      outcome: 'failure',
      decision: 'deny',
      mode: 'enforce',
      request: { id: 'r', method: 'GET', route: '/' },
    });
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 40,
      context: 'ZeroTrustAudit',
      event: { action: 'authn_token_missing' },
    });
  });

  it('is the Nest logger otherwise', async () => {
    expect(await sinkOf([ZeroTrustModule.forRoot(base)])).toBeInstanceOf(LoggerAuditSink);
  });
});

describe('the metrics registry', () => {
  it('is a new registry by default, so two apps never collide', async () => {
    const one = await metricsOf({});
    const two = await metricsOf({});
    expect(one.registry).not.toBe(two.registry);
    expect(one.registry).not.toBe(register);
  });

  it('may be yours or the global one, shared by several module instances', async () => {
    const mine = new Registry();
    expect((await metricsOf({ metrics: { registry: mine } })).registry).toBe(mine);
    const first = await metricsOf({ metrics: { registry: 'global' } });
    const second = await metricsOf({ metrics: { registry: 'global' } });
    expect(first.registry).toBe(register);
    expect(second.registry).toBe(register);
    first.auditDropped(2);
    expect(
      await register.getSingleMetricAsString('zero_trust_audit_events_dropped_total'),
    ).toContain('zero_trust_audit_events_dropped_total 2');
    register.clear();
  });
});

async function metricsOf(monitoring: object): Promise<ZeroTrustMetrics> {
  const moduleRef = await Test.createTestingModule({
    imports: [ZeroTrustModule.forRoot({ ...base, monitoring })],
  }).compile();
  const metrics = moduleRef.get(ZeroTrustMetrics);
  await moduleRef.close();
  return metrics;
}
