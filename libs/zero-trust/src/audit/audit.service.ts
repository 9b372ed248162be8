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
import { ZeroTrustError } from '../errors/zero-trust.error.js';
import { AuditSink } from './audit-sink.interface.js';
import type { DecisionEvent, DecisionOutcome, DecisionStage } from './decision-event.interface.js';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import { compact } from '../utils/compact.js';

/** How long the shutdown waits for queued events to reach the sink. */
const SHUTDOWN_FLUSH_MS = 2000;

/**
 * What a guard knows about one stage of a decision (with the risk assessment and, for a finding,
 * its name); the audit service adds time, request and principal.
 *
 * @internal
 */
export interface DecisionInput extends DecisionStage {
  risk?: DecisionEvent['risk'];
  geo?: DecisionEvent['geo'];
  finding?: string;
}

/**
 * Called with every stage of a decision (as an event of its own, before the request's record
 * is complete) and with every other event, and the context of its request; e.g. by the risk
 * engine to count failures. Runs synchronously on the request path: keep it cheap, never throw.
 *
 * @publicApi
 */
export type DecisionListener = (event: DecisionEvent, context: ZeroTrustRequestContext) => void;

/** Refusals end the request: its record is complete. */
function refuses(decision: DecisionOutcome): boolean {
  return decision === 'deny' || decision === 'step-up';
}

/**
 * Writes the audit trail: ONE decision record per request, and events of their own for what is
 * no request's decision (risk findings, forwarding headers that could not be followed).
 *
 * Guards call {@link record} with each stage; the stages wait on the request's context until the
 * decision is final: at the first refusal (later stages do not run), or when the last guard
 * allowed and calls {@link finish} (or, failing both, when the response is over: see
 * {@link finishOnClose}). A refusal no stage recorded is added as a deny stage ({@link refuse},
 * or the response's status at close): a refused request's record never says allow. Every stage
 * is counted in the metrics. Allowed records are
 * sampled (`audit.allowSampleRate`); refusals and report-only would-denies are always written.
 *
 * Records go to the {@link AuditSink} off the request path: they wait in a bounded buffer
 * (`audit.bufferSize`) drained after the request's own work, outside any request's async
 * context. A sink that returns a promise (file, HTTP) is awaited before the next record, so a
 * slow or stuck collector fills the buffer; past its size records are dropped and counted
 * (`zero_trust_audit_events_dropped_total`), never waited for.
 *
 * @publicApi
 */
@Injectable()
export class AuditService implements OnApplicationShutdown {
  private readonly logger = new Logger('ZeroTrust');
  /** Events waiting for the sink, at most `audit.bufferSize`. */
  private queue: DecisionEvent[] = [];
  /** Created at bootstrap: the drain runs in no request's async context. */
  private readonly scope = new AsyncResource('ZeroTrustAudit');
  private readonly listeners = new Set<DecisionListener>();
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

  /**
   * Records one stage of the decision on the request of `context` (or, with `finding`, a finding
   * about it). A refusal completes the request's record and writes it. Never blocks, never throws.
   */
  record(context: ZeroTrustRequestContext, input: DecisionInput): void {
    this.metrics.observeDecision(input);
    const event = this.toEvent(context, input);
    if (input.finding !== undefined || (input.decision === 'allow' && input.code !== undefined)) {
      // A finding about the request, not one of its stages: an event (an ECS alert) of its own.
      this.write(event);
    } else {
      let trail = context.audit;
      // A stage decided after the record was written (e.g. a rate limit installed after the
      // module's guards) starts a record of its own.
      if (trail === undefined || trail.written)
        context.audit = trail = { stages: [], written: false };
      trail.stages.push(input);
      if (refuses(input.decision)) this.finish(context);
    }
    for (const listener of this.listeners) {
      try {
        listener(event, context);
      } catch (error) {
        this.logger.error(
          `Decision listener failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  /**
   * Writes the request's decision record from the stages recorded so far, once: called by the
   * last guard of the module when it allowed (or failed without a recorded refusal), and by
   * {@link record} at a refusal. Nothing to write (a public route) writes nothing.
   */
  finish(context: ZeroTrustRequestContext): void {
    const trail = context.audit;
    if (trail === undefined || trail.written || trail.stages.length === 0) return;
    trail.written = true;
    this.write(this.toRecord(context, trail.stages));
  }

  /**
   * Records `error`, which refuses the request, as a deny stage (its code, else its HTTP status)
   * unless a refusal was already recorded: the record then says deny, not only the stages that
   * allowed, and is never sampled away.
   */
  refuse(context: ZeroTrustRequestContext, action: string, error: unknown): void {
    if (context.audit?.written === true) return;
    const status = error instanceof HttpException ? error.getStatus() : 500;
    const code = error instanceof ZeroTrustError ? error.code : undefined;
    const message = error instanceof Error ? error.message : 'Request refused';
    this.record(context, {
      action,
      decision: 'deny',
      mode: 'enforce',
      code,
      reason: code === undefined ? `${message} (HTTP ${status})` : message,
    });
  }

  /**
   * Writes the request's record, if no guard did, once its response is over. A request refused by
   * what no stage records (a 503 of the risk engine or an ability definition, a guard of the
   * application that runs before the module's last one) gets a deny stage with the response's
   * status: its record says deny, never allow. `response` is Express's or Fastify's reply.
   */
  finishOnClose(context: ZeroTrustRequestContext, response: unknown): void {
    const reply = response as { raw?: unknown } | undefined;
    const emitter = (reply?.raw ?? response) as {
      once?: (event: 'close', f: () => void) => void;
      statusCode?: number;
    };
    emitter?.once?.('close', () => {
      const status = emitter.statusCode ?? 0;
      if (context.audit?.written !== true && status >= 400)
        this.record(context, {
          action: 'authz_fail',
          decision: 'deny',
          mode: 'enforce',
          reason: `The request was refused (HTTP ${status})`,
        });
      this.finish(context);
    });
  }

  /**
   * Calls `listener` with every stage and every other event (allows included, sampled or not).
   * Returns a function that removes it.
   */
  subscribe(listener: DecisionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every event queued so far has been handed to the sink. */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  /**
   * Gives queued events a last chance to reach the sink, for at most two seconds: a stuck sink
   * must not hold the shutdown. What is left is counted as dropped.
   */
  async onApplicationShutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), SHUTDOWN_FLUSH_MS);
    });
    const outcome = await Promise.race([this.flush(), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout' && this.pending > 0) {
      this.drop(this.pending);
      this.queue = [];
    }
  }

  /** Whether one allow is emitted at sample rate `rate` (0 < rate < 1). */
  protected sampled(rate: number): boolean {
    return Math.random() < rate;
  }

  /** One stage, or a finding, as an event of its own. */
  private toEvent(context: ZeroTrustRequestContext, input: DecisionInput): DecisionEvent {
    const { requestId: id, method, route, ip, principal } = context;
    return compact({
      time: new Date().toISOString(),
      action: input.action,
      outcome: input.decision === 'allow' ? 'success' : 'failure',
      decision: input.decision,
      mode: input.mode,
      request: compact({ id, method, route, ip }),
      code: input.code,
      reason: input.reason,
      principal:
        principal &&
        compact({ kind: principal.kind, id: principal.id, client: principal.clientId }),
      roles: principal && [...principal.roles],
      authorization: input.authorization,
      rule: input.rule,
      risk: input.risk,
      geo: input.geo,
      finding: input.finding,
    });
  }

  /**
   * The request's decision record: the deciding stage (the first that refused or would have,
   * else the last) gives its action, decision, code, reason and rule; the context gives who,
   * what and where; every stage is listed.
   */
  private toRecord(context: ZeroTrustRequestContext, stages: DecisionInput[]): DecisionEvent {
    // The first stage that did not allow, else the last.
    const deciding = stages.reduce((chosen, stage) =>
      chosen.decision !== 'allow' ? chosen : stage,
    );
    const { finding: _finding, risk: _risk, geo: _geo, ...decided } = deciding;
    const record = this.toEvent(context, decided);
    const assessed = stages.findLast((stage) => stage.risk !== undefined);
    const binding = compact({
      certificate: context.certificate?.thumbprint,
      dpop: context.dpop?.jkt,
    });
    return compact({
      ...record,
      stages: stages.map(({ action, decision, mode, code, reason, authorization, rule }) =>
        compact<DecisionStage>({ action, decision, mode, code, reason, authorization, rule }),
      ),
      authorization:
        record.authorization ?? stages.findLast((stage) => stage.authorization)?.authorization,
      risk: assessed?.risk,
      geo: assessed?.geo,
      binding: Object.keys(binding).length > 0 ? binding : undefined,
      device: context.principal?.token.device,
    });
  }

  /** Queues an event for the sink; allows (the plain ones) only as sampled. */
  private write(event: DecisionEvent): void {
    if (event.decision === 'allow' && event.code === undefined) {
      const rate = this.options.audit.allowSampleRate;
      if (rate <= 0 || (rate < 1 && !this.sampled(rate))) return;
    }
    if (this.pending >= this.options.audit.bufferSize) {
      this.drop(1);
      return;
    }
    this.queue.push(event);
    this.draining ??= this.scope.runInAsyncScope(() =>
      new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.drain())
        .finally(() => {
          this.draining = undefined;
        }),
    );
  }

  /**
   * Writes every queued event in turn, awaiting the sink only when it returns a promise: a
   * slow sink makes the queue grow, not the request wait.
   */
  private async drain(): Promise<void> {
    for (let event = this.queue.shift(); event !== undefined; event = this.queue.shift()) {
      try {
        const result = this.sink.write(event);
        if (result instanceof Promise) await result;
      } catch (error) {
        this.drop(1);
        this.logger.error(
          `Audit sink failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  private drop(count: number): void {
    this.droppedCount += count;
    this.metrics.auditDropped(count);
  }
}
