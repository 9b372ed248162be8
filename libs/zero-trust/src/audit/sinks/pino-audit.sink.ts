import type { AuditSink } from '../audit-sink.interface.js';
import type { DecisionEvent } from '../decision-event.interface.js';
import { ecsJsonBody, toEcsEvent } from '../ecs.js';
import { fastPinoLine, type FastPinoLine } from './pino-fast-line.js';

/**
 * The part of a pino logger (or of nestjs-pino's `PinoLogger`) the sink uses.
 *
 * @publicApi
 */
export interface PinoLike {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
}

/**
 * Writes each event as one pino log line whose fields are the ECS event (`event.*`,
 * `user.*`, ...). The default sink when the application imports nestjs-pino's `LoggerModule`.
 *
 * @example
 * ```ts
 * ZeroTrustModule.forRoot({ ..., audit: { sink: new PinoAuditSink(pino()) } })
 * ```
 * @publicApi
 */
export class PinoAuditSink implements AuditSink {
  /** The same line, framed without pino's per-field work, when the logger allows it. */
  private readonly fast: FastPinoLine | undefined;

  constructor(
    private readonly logger: PinoLike,
    private readonly serviceName?: string,
  ) {
    this.fast = fastPinoLine(logger);
  }

  /**
   * Writes the event's line. While the logger's destination is backed up, returns a promise
   * settled when it drains: the audit service then holds further events in its bounded buffer
   * (dropping and counting the excess) instead of letting the destination queue without bound.
   */
  write(event: DecisionEvent): Promise<void> | undefined {
    // pino writes its own `msg` and `time`; the ECS `message` and `@timestamp` ride along.
    const level = event.decision === 'allow' ? 'info' : 'warn';
    if (this.fast !== undefined) {
      const { body, message } = ecsJsonBody(event, this.serviceName);
      return this.fast.write(level, body, message);
    }
    const ecs = toEcsEvent(event, this.serviceName);
    if (level === 'info') this.logger.info(ecs, ecs.message);
    else this.logger.warn(ecs, ecs.message);
    return undefined;
  }
}
