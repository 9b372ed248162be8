import type { DecisionEvent } from './decision-event.interface.js';

/**
 * Receives decision events; should return quickly. What `write` throws or rejects with is logged,
 * never failing the request. @publicApi
 */
export interface AuditSink {
  write(event: DecisionEvent): void | Promise<void>;
}

/** Injection token of the {@link AuditSink}. @publicApi */
export const AuditSink = Symbol('AuditSink');
