import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import type { ZeroTrustErrorCode } from '../errors/messages.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { AuditSink } from './audit-sink.interface.js';
import type { DecisionEvent, DecisionOutcome } from './decision-event.interface.js';

/**
 * What a guard knows about a decision; the audit service adds time, request and principal.
 *
 * @internal
 */
export interface DecisionInput {
  action: string;
  decision: DecisionOutcome;
  mode: ZeroTrustMode;
  code?: ZeroTrustErrorCode;
  reason?: string;
  authorization?: DecisionEvent['authorization'];
}

/**
 * Turns decisions into {@link DecisionEvent}s and hands them to the {@link AuditSink}.
 * A failing sink is logged and never fails the request.
 *
 * @publicApi
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('ZeroTrust');

  constructor(
    @Inject(AuditSink) private readonly sink: AuditSink,
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
  ) {}

  /** Records one decision taken for the request of `context`. */
  record(context: ZeroTrustRequestContext, input: DecisionInput): void {
    if (input.decision === 'allow' && !this.options.audit.allows) return;
    const event: DecisionEvent = {
      time: new Date().toISOString(),
      action: input.action,
      outcome: input.decision === 'allow' ? 'success' : 'failure',
      decision: input.decision,
      ...(input.code !== undefined ? { code: input.code } : {}),
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      mode: input.mode,
      ...(context.principal
        ? { principal: { kind: context.principal.kind, id: context.principal.id } }
        : {}),
      request: {
        id: context.requestId,
        method: context.method,
        route: context.route,
        ...(context.ip !== undefined ? { ip: context.ip } : {}),
      },
      ...(input.authorization ? { authorization: input.authorization } : {}),
    };
    try {
      const result = this.sink.write(event);
      if (result instanceof Promise) result.catch((error: unknown) => this.sinkFailed(error));
    } catch (error) {
      this.sinkFailed(error);
    }
  }

  private sinkFailed(error: unknown): void {
    this.logger.error(
      `Audit sink failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
