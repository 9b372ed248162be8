import { Registry } from 'prom-client';
import type { AuditSink } from '../audit/audit-sink.interface.js';

/**
 * Resolved `audit` options.
 *
 * @internal
 */
export interface ResolvedAuditOptions {
  sink: AuditSink | undefined;
  /** Share of allow decisions emitted, 0 to 1. */
  allowSampleRate: number;
  /** Kept for code that reads the boolean: whether any allow is emitted. */
  allows: boolean;
  bufferSize: number;
  serviceName: string | undefined;
}

/**
 * Resolved `monitoring` options.
 *
 * @internal
 */
export interface ResolvedMonitoringOptions {
  metrics: { registry: Registry | 'global' | undefined };
  health: { maxKeyAge: number };
  explainDenials: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates the `audit` option; problems are pushed, values never echoed.
 *
 * @internal
 */
export function validateAudit(value: unknown, problems: string[]): ResolvedAuditOptions {
  const audit: ResolvedAuditOptions = {
    sink: undefined,
    allowSampleRate: 1,
    allows: true,
    bufferSize: 10_000,
    serviceName: undefined,
  };
  if (value === undefined) return audit;
  if (!isObject(value)) {
    problems.push('audit must be an object');
    return audit;
  }
  for (const key of Object.keys(value)) {
    if (!['sink', 'allows', 'bufferSize', 'serviceName'].includes(key))
      problems.push(`unknown option "audit.${key}"`);
  }
  if (value.sink !== undefined) {
    if (!isObject(value.sink) || typeof value.sink.write !== 'function')
      problems.push('audit.sink must implement AuditSink (write(event))');
    else audit.sink = value.sink as unknown as AuditSink;
  }
  const allows = value.allows;
  if (typeof allows === 'boolean') audit.allowSampleRate = allows ? 1 : 0;
  else if (isObject(allows)) {
    const rate = allows.sampleRate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))
      problems.push('audit.allows.sampleRate must be a number from 0 to 1');
    else audit.allowSampleRate = rate;
  } else if (allows !== undefined)
    problems.push('audit.allows must be a boolean or { sampleRate: number }');
  audit.allows = audit.allowSampleRate > 0;
  if (value.bufferSize !== undefined) {
    const size = value.bufferSize;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1)
      problems.push('audit.bufferSize must be a positive integer');
    else audit.bufferSize = size;
  }
  if (value.serviceName !== undefined) {
    if (typeof value.serviceName !== 'string' || !/^[\w.-]{1,64}$/.test(value.serviceName))
      problems.push('audit.serviceName must be 1 to 64 letters, digits, ".", "_" or "-"');
    else audit.serviceName = value.serviceName;
  }
  return audit;
}

/**
 * Validates the `monitoring` option; problems are pushed, values never echoed.
 *
 * @internal
 */
export function validateMonitoring(value: unknown, problems: string[]): ResolvedMonitoringOptions {
  const monitoring: ResolvedMonitoringOptions = {
    metrics: { registry: undefined },
    health: { maxKeyAge: 3600 },
    explainDenials: false,
  };
  if (value === undefined) return monitoring;
  if (!isObject(value)) {
    problems.push('monitoring must be an object');
    return monitoring;
  }
  for (const key of Object.keys(value)) {
    if (!['metrics', 'health', 'explainDenials'].includes(key))
      problems.push(`unknown option "monitoring.${key}"`);
  }
  if (value.metrics !== undefined) {
    const registry = isObject(value.metrics) ? value.metrics.registry : undefined;
    if (!isObject(value.metrics)) problems.push('monitoring.metrics must be an object');
    else if (registry === 'global' || registry instanceof Registry)
      monitoring.metrics.registry = registry;
    else if (registry !== undefined)
      problems.push('monitoring.metrics.registry must be a prom-client Registry or "global"');
  }
  if (value.health !== undefined) {
    const age = isObject(value.health) ? value.health.maxKeyAge : undefined;
    if (!isObject(value.health)) problems.push('monitoring.health must be an object');
    else if (age !== undefined) {
      if (typeof age !== 'number' || !Number.isFinite(age) || age <= 0)
        problems.push('monitoring.health.maxKeyAge must be a positive number of seconds');
      else monitoring.health.maxKeyAge = age;
    }
  }
  if (value.explainDenials !== undefined) {
    if (typeof value.explainDenials !== 'boolean')
      problems.push('monitoring.explainDenials must be a boolean');
    else monitoring.explainDenials = value.explainDenials;
  }
  return monitoring;
}
