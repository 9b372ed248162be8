import type { DecisionEvent } from './decision-event.interface.js';

/**
 * Receives decision events. `write` must not throw for a well-formed event and should return
 * quickly; errors it throws or rejects with are caught and logged, never failing the request.
 * @publicApi
 */
export interface AuditSink {
  write(event: DecisionEvent): void | Promise<void>;
}

/** Injection token of the {@link AuditSink}. @publicApi */
export const AuditSink = Symbol('AuditSink');
