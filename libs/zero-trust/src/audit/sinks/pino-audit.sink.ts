import type { AuditSink } from '../audit-sink.interface.js';
import type { DecisionEvent } from '../decision-event.interface.js';
import { toEcsEvent } from '../ecs.js';

/** The part of a pino logger (or of nestjs-pino's `PinoLogger`) the sink uses. @publicApi */
export interface PinoLike {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
}

/**
 * Writes each ECS event as one pino log line (its serializers, redaction and destination); the
 * default sink when the application imports nestjs-pino's `LoggerModule`. @publicApi
 */
export class PinoAuditSink implements AuditSink {
  constructor(
    private readonly logger: PinoLike,
    private readonly serviceName?: string,
  ) {}

  write(event: DecisionEvent): void {
    // pino writes its own `msg` and `time`; the ECS `message` and `@timestamp` ride along.
    const ecs = toEcsEvent(event, this.serviceName);
    if (event.decision === 'allow') this.logger.info(ecs, ecs.message);
    else this.logger.warn(ecs, ecs.message);
  }
}
