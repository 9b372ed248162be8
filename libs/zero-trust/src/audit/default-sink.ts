import type { ModuleRef } from '@nestjs/core';
import type { AuditSink } from './audit-sink.interface.js';
import { LoggerAuditSink } from './logger-audit.sink.js';
import { PinoAuditSink } from './sinks/pino-audit.sink.js';

/**
 * The default sink: nestjs-pino's logger when the optional peer is installed and the app
 * imports its `LoggerModule`, else the Nest logger.
 *
 * @internal
 */
export async function defaultAuditSink(
  moduleRef: ModuleRef,
  serviceName: string | undefined,
): Promise<AuditSink> {
  try {
    const { PinoLogger } = await import('nestjs-pino');
    const logger = await moduleRef.resolve(PinoLogger, undefined, { strict: false });
    // One child of the application's root pino logger (resolved here, outside any request),
    // bound to the context once: no per-event merge of the context into the event, and never
    // the logger of whichever request happens to be current when the buffer drains.
    const contextName = (logger as unknown as { contextName?: string }).contextName ?? 'context';
    return new PinoAuditSink(logger.logger.child({ [contextName]: 'ZeroTrustAudit' }), serviceName);
  } catch {
    // nestjs-pino is not installed, or its LoggerModule is not imported.
    return new LoggerAuditSink(serviceName);
  }
}
