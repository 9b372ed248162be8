import type { ModuleRef } from '@nestjs/core';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import type { AuditSink } from './audit-sink.interface.js';
import { LoggerAuditSink } from './logger-audit.sink.js';
import { PinoAuditSink } from './sinks/pino-audit.sink.js';

/** `audit.sink`, else nestjs-pino's logger (its LoggerModule imported), else Nest's. @internal */
export async function auditSinkFor(
  { audit }: ResolvedZeroTrustOptions,
  moduleRef: ModuleRef,
): Promise<AuditSink> {
  if (audit.sink !== undefined) return audit.sink;
  try {
    const { PinoLogger } = await import('nestjs-pino');
    // A PinoLogger of our own (the class is transient): the drain runs in no request's context.
    const logger = await moduleRef.resolve(PinoLogger, undefined, { strict: false });
    logger.setContext('ZeroTrustAudit');
    return new PinoAuditSink(logger, audit.serviceName);
  } catch {
    // nestjs-pino is not installed, or its LoggerModule is not imported.
    return new LoggerAuditSink(audit.serviceName);
  }
}
