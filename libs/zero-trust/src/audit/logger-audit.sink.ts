import { Logger } from '@nestjs/common';
import type { AuditSink } from './audit-sink.interface.js';
import type { DecisionEvent } from './decision-event.interface.js';
import { toEcsEvent } from './ecs.js';

/**
 * Fallback sink: one ECS JSON line per event through the Nest logger (context
 * `ZeroTrustAudit`); allows at `log` level, denies and failures at `warn`. @publicApi
 */
export class LoggerAuditSink implements AuditSink {
  private readonly logger = new Logger('ZeroTrustAudit');

  constructor(private readonly serviceName?: string) {}

  write(event: DecisionEvent): void {
    const line = JSON.stringify(toEcsEvent(event, this.serviceName));
    if (event.decision === 'allow') this.logger.log(line);
    else this.logger.warn(line);
  }
}
