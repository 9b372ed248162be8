import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AsyncResource } from 'node:async_hooks';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { messageOf, ZeroTrustError } from '../errors/zero-trust.error.js';
import { AuditSink } from './audit-sink.interface.js';
import type { DecisionEvent, DecisionStage } from './decision-event.interface.js';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import { compact } from '../utils/compact.js';

/** One stage as a guard records it, with the risk assessment or a finding's name. @internal */
export interface DecisionInput extends DecisionStage {
  risk?: DecisionEvent['risk'];
  geo?: DecisionEvent['geo'];
  finding?: string;
}

/**
 * Called with every stage of a decision and every other event, with its request's context (e.g.
 * by the risk engine to count failures). Runs on the request path: keep it cheap, never throw.
 * @publicApi
 */
export type DecisionListener = (event: DecisionEvent, context: ZeroTrustRequestContext) => void;

/**
 * Writes the audit trail: ONE decision record per request and events of their own for findings,
 * through a bounded buffer drained off the request path (past it, dropped and counted). @publicApi
 */
@Injectable()
export class AuditService implements OnApplicationShutdown {
  private readonly logger = new Logger('ZeroTrust');
  private queue: DecisionEvent[] = [];
  /** Created at bootstrap: the drain runs in no request's async context. */
  private readonly scope = new AsyncResource('ZeroTrustAudit');
  private readonly listeners = new Map<DecisionListener, (stage: DecisionStage) => boolean>();
  private draining: Promise<void> | undefined;
  private droppedCount = 0;

  constructor(
    @Inject(AuditSink) private readonly sink: AuditSink,
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly metrics: ZeroTrustMetrics,
  ) {}

  /** Events dropped so far because the buffer was full or the sink failed. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Records a stage of `context`'s decision or a `finding` (a refusal writes it); never throws. */
  record(context: ZeroTrustRequestContext, input: DecisionInput): void {
    this.metrics.observeDecision(input);
    // Built only for a finding or a listener that wants this stage: most stages are not events.
    let event: DecisionEvent | undefined;
    if (input.finding !== undefined || (input.decision === 'allow' && input.code !== undefined)) {
      // A finding, not a stage: an event (an ECS alert) of its own.
      this.write((event = this.toEvent(context, input)));
    } else {
      // A stage decided after the record was written (a rate limit after the module's guards)
      // starts a record of its own.
      if (context.audit?.written !== false) context.audit = { stages: [], written: false };
      context.audit.stages.push(input);
      if (input.decision === 'deny' || input.decision === 'step-up') this.finish(context);
    }
    for (const [listener, wants] of this.listeners) {
      if (!wants(input)) continue;
      try {
        listener((event ??= this.toEvent(context, input)), context);
      } catch (error) {
        this.logger.error(`Decision listener failed: ${messageOf(error)}`);
      }
    }
  }

  /** Writes the request's decision record from the stages recorded so far, once. */
  finish(context: ZeroTrustRequestContext): void {
    const trail = context.audit;
    if (trail === undefined || trail.written || trail.stages.length === 0) return;
    trail.written = true;
    // The deciding stage: the first that did not allow, else the last.
    const deciding = trail.stages.reduce((chosen, s) => (chosen.decision !== 'allow' ? chosen : s));
    this.write(this.toEvent(context, deciding, trail.stages));
  }

  /**
   * Records `error`, which refuses the request, as a deny stage (its code, else its HTTP status)
   * unless a refusal was already recorded: a refused request's record never says allow.
   */
  refuse(context: ZeroTrustRequestContext, action: string, error: unknown): void {
    if (context.audit?.written === true) return;
    const status = error instanceof HttpException ? error.getStatus() : 500;
    const code = error instanceof ZeroTrustError ? error.code : undefined;
    const reason = error instanceof Error ? error.message : 'Request refused';
    this.record(context, {
      action,
      decision: 'deny',
      mode: 'enforce',
      code,
      reason: code === undefined ? `${reason} (HTTP ${status})` : reason,
    });
  }

  /** Writes the record, if no guard did, when the response is over (a refusal: a deny stage). */
  finishOnClose(context: ZeroTrustRequestContext, response: unknown): void {
    const emitter = ((response as { raw?: unknown } | undefined)?.raw ?? response) as {
      once?: (event: 'close', f: () => void) => void;
      statusCode?: number;
    };
    emitter?.once?.('close', () => {
      const status = emitter.statusCode ?? 0;
      if (status >= 400)
        this.refuse(context, 'authz_fail', new HttpException('The request was refused', status));
      this.finish(context);
    });
  }

  /** Calls `listener` with every stage and event (those `wants`); returns its unsubscribe. */
  subscribe(
    listener: DecisionListener,
    wants: (stage: DecisionStage) => boolean = () => true,
  ): () => void {
    this.listeners.set(listener, wants);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every event queued so far has been handed to the sink. */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  /** Flushes for at most two seconds (a stuck sink must not hold the shutdown); drops the rest. */
  async onApplicationShutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise((done) => (timer = setTimeout(done, 2000)))]);
    clearTimeout(timer);
    if (this.pending > 0) this.drop(this.queue.splice(0).length);
  }

  // One stage or finding as an event of its own or, given every stage, the request's record
  // (its top-level fields from the deciding `stage`).
  private toEvent(
    context: ZeroTrustRequestContext,
    stage: DecisionInput,
    stages?: DecisionInput[],
  ): DecisionEvent {
    const assessed = stages ? stages.findLast((s) => s.risk !== undefined) : stage;
    const { requestId: id, method, route, ip, principal } = context;
    const binding = compact({
      certificate: context.certificate?.thumbprint,
      dpop: context.dpop?.jkt,
    });
    return compact({
      time: new Date().toISOString(),
      action: stage.action,
      outcome: stage.decision === 'allow' ? 'success' : 'failure',
      decision: stage.decision,
      mode: stage.mode,
      request: compact({ id, method, route, ip }),
      code: stage.code,
      reason: stage.reason,
      principal:
        principal &&
        compact({ kind: principal.kind, id: principal.id, client: principal.clientId }),
      roles: principal && [...principal.roles],
      authorization: stage.authorization ?? stages?.findLast((s) => s.authorization)?.authorization,
      rule: stage.rule,
      risk: assessed?.risk,
      geo: assessed?.geo,
      finding: stages ? undefined : stage.finding,
      stages: stages?.map(({ action, decision, mode, code, reason, authorization, rule }) =>
        compact<DecisionStage>({ action, decision, mode, code, reason, authorization, rule }),
      ),
      binding: stages && Object.keys(binding).length > 0 ? binding : undefined,
      device: stages && principal?.token.device,
    });
  }

  /** Queues an event for the sink; allows (the plain ones) only as sampled. */
  private write(event: DecisionEvent): void {
    const plainAllow = event.decision === 'allow' && event.code === undefined;
    if (plainAllow && Math.random() >= this.options.audit.allowSampleRate) return;
    if (this.pending >= this.options.audit.bufferSize) return this.drop(1);
    this.queue.push(event);
    this.draining ??= this.scope.runInAsyncScope(() =>
      new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.drain())
        .finally(() => {
          this.draining = undefined;
        }),
    );
  }

  /** Awaits the sink only when it returns a promise: a slow sink grows the queue, not latency. */
  private async drain(): Promise<void> {
    for (let event = this.queue.shift(); event !== undefined; event = this.queue.shift()) {
      try {
        const result = this.sink.write(event);
        if (result instanceof Promise) await result;
      } catch (error) {
        this.drop(1);
        this.logger.error(`Audit sink failed: ${messageOf(error)}`);
      }
    }
  }

  private drop(count: number): void {
    this.droppedCount += count;
    this.metrics.auditDropped(count);
  }
}
