/**
 * `nestjs-zero-trust/audit`: the decision record and its ECS form, the sinks that write it
 * (pass one as the module's `audit.sink`) and the `AuditSink` a custom sink extends.
 *
 * @packageDocumentation
 */
export { AuditSink } from './audit-sink.interface.js';
export { AuditService, type DecisionListener } from './audit.service.js';
export type {
  DecisionEvent,
  DecisionOutcome,
  DecisionRule,
  DecisionStage,
} from './decision-event.interface.js';
export { ECS_VERSION, toEcsEvent, type EcsEvent } from './ecs.js';
export { LoggerAuditSink } from './logger-audit.sink.js';
export { FileAuditSink } from './sinks/file-audit.sink.js';
export { HttpAuditSink, type HttpAuditSinkOptions } from './sinks/http-audit.sink.js';
export { PinoAuditSink, type PinoLike } from './sinks/pino-audit.sink.js';
