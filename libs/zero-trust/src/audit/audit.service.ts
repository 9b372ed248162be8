import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AsyncResource } from 'node:async_hooks';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import type { ZeroTrustErrorCode } from '../errors/messages.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { AuditSink } from './audit-sink.interface.js';
import type { DecisionEvent, DecisionOutcome } from './decision-event.interface.js';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';

/** How long the shutdown waits for queued events to reach the sink. */
const SHUTDOWN_FLUSH_MS = 2000;

/** Written events are cut from the front of the buffer once this many have piled up. */
const COMPACT_AFTER = 1024;

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
  rule?: DecisionEvent['rule'];
  risk?: DecisionEvent['risk'];
  geo?: DecisionEvent['geo'];
  finding?: string;
}

/**
 * Called with every decision event and the context of its request, e.g. by the risk engine to
 * count failures. Runs synchronously on the request path: keep it cheap, never throw.
 *
 * @publicApi
 */
export type DecisionListener = (event: DecisionEvent, context: ZeroTrustRequestContext) => void;

/** Where the audit service keeps the `request` of a context's events. */
const EVENT_REQUEST = Symbol('zero-trust:event-request');

type ContextWithEventRequest = ZeroTrustRequestContext & {
  [EVENT_REQUEST]?: DecisionEvent['request'];
};

/**
 * The `request` of an event of `context`: one object shared by the events of a request (the
 * ECS sink remembers its JSON there), new whenever the context no longer matches it.
 */
function requestOf(context: ContextWithEventRequest): DecisionEvent['request'] {
  const known = context[EVENT_REQUEST];
  if (
    known !== undefined &&
    known.id === context.requestId &&
    known.method === context.method &&
    known.route === context.route &&
    known.ip === context.ip
  )
    return known;
  const request: DecisionEvent['request'] = {
    id: context.requestId,
    method: context.method,
    route: context.route,
  };
  if (context.ip !== undefined) request.ip = context.ip;
  context[EVENT_REQUEST] = request;
  return request;
}

/**
 * Turns decisions into {@link DecisionEvent}s and hands them to the {@link AuditSink}, off the
 * request path: events wait in a bounded buffer and are written one at a time after the
 * request's own work, in batches (everything queued when the drain runs, outside any request's
 * async context so a sink never sees another request's context). When the buffer is full (a slow or stuck sink), new events are dropped
 * and counted, never waited for. Every decision is counted in the metrics, sampled or not.
 *
 * @publicApi
 */
@Injectable()
export class AuditService implements OnApplicationShutdown {
  private readonly logger = new Logger('ZeroTrust');
  /** Events from `head` on wait; those before it are written. */
  private readonly queue: DecisionEvent[] = [];
  private head = 0;
  /** Created at bootstrap: the drain runs in no request's async context. */
  private readonly scope = new AsyncResource('ZeroTrustAudit');
  /** ISO time of the last event, reused for every event of the same millisecond. */
  private lastMs = 0;
  private lastIso = '';
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
    return this.queue.length - this.head;
  }

  /** Records one decision taken for the request of `context`. Never blocks, never throws. */
  record(context: ZeroTrustRequestContext, input: DecisionInput): void {
    const event = this.toEvent(context, input);
    this.metrics.observeDecision(event);
    let kept = true;
    // Allows are sampled; an allow with a code is a finding about the request (e.g. forwarding
    // headers that could not be followed), never sampled away.
    if (input.decision === 'allow' && input.code === undefined) {
      const rate = this.options.audit.allowSampleRate;
      kept = rate > 0 && (rate >= 1 || this.sampled(rate));
    }
    // Queued before the listeners run: what a listener records follows the event in the trail.
    if (kept) this.enqueue(event);
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
   * Calls `listener` with every decision event (allows included, sampled or not). Returns a
   * function that removes it.
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
      this.queue.length = 0;
      this.head = 0;
    }
  }

  /** Whether one allow is emitted at sample rate `rate` (0 < rate < 1). */
  protected sampled(rate: number): boolean {
    return Math.random() < rate;
  }

  private toEvent(context: ZeroTrustRequestContext, input: DecisionInput): DecisionEvent {
    const ms = Date.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    const request = requestOf(context);
    const event: DecisionEvent = {
      time: this.lastIso,
      action: input.action,
      outcome: input.decision === 'allow' ? 'success' : 'failure',
      decision: input.decision,
      mode: input.mode,
      request,
    };
    if (input.code !== undefined) event.code = input.code;
    if (input.reason !== undefined) event.reason = input.reason;
    const principal = context.principal;
    if (principal) {
      event.principal = { kind: principal.kind, id: principal.id };
      // Verified principals are frozen: their roles can be shared, not copied.
      event.roles = Object.isFrozen(principal.roles) ? principal.roles : [...principal.roles];
    }
    if (input.authorization) event.authorization = input.authorization;
    if (input.rule) event.rule = input.rule;
    if (input.risk) event.risk = input.risk;
    if (input.geo) event.geo = input.geo;
    if (input.finding !== undefined) event.finding = input.finding;
    return event;
  }

  private enqueue(event: DecisionEvent): void {
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
   * Writes every queued event in turn, without waiting between events unless the sink returns
   * a promise; a slow sink makes the queue grow, not the request wait.
   */
  private async drain(): Promise<void> {
    while (this.head < this.queue.length) {
      const event = this.queue[this.head++] as DecisionEvent;
      try {
        const result = this.sink.write(event);
        if (result instanceof Promise) await result;
      } catch (error) {
        this.drop(1);
        this.logger.error(
          `Audit sink failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (this.head >= COMPACT_AFTER) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
    }
    this.queue.length = 0;
    this.head = 0;
  }

  private drop(count: number): void {
    this.droppedCount += count;
    this.metrics.auditDropped(count);
  }
}
