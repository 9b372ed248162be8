import type { AuditSink } from '../audit-sink.interface.js';
import type { DecisionEvent } from '../decision-event.interface.js';
import { toEcsEvent } from '../ecs.js';

/** Options of {@link HttpAuditSink}. @publicApi */
export interface HttpAuditSinkOptions {
  /** Where to POST events (`application/x-ndjson`, one ECS event per line). */
  url: string;
  /** Extra headers, e.g. `{ authorization: 'ApiKey …' }`. Never logged. */
  headers?: Record<string, string>;
  /** Request timeout in milliseconds. @default 5000 */
  timeout?: number;
  /** Added as `labels.application`. */
  serviceName?: string;
}

/**
 * Sends events to a SIEM or log collector (Logstash's `http` input, Vector, Fluent Bit) as
 * NDJSON, one POST per event. A failed POST counts the event as dropped. @publicApi
 */
export class HttpAuditSink implements AuditSink {
  constructor(private readonly options: HttpAuditSinkOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new TypeError('HttpAuditSink: "url" must be an http or https URL');
  }

  async write(event: DecisionEvent): Promise<void> {
    const response = await fetch(this.options.url, {
      method: 'POST',
      redirect: 'error',
      headers: { 'content-type': 'application/x-ndjson', ...this.options.headers },
      body: `${JSON.stringify(toEcsEvent(event, this.options.serviceName))}\n`,
      signal: AbortSignal.timeout(this.options.timeout ?? 5000),
    });
    await response.body?.cancel();
    if (response.status < 200 || response.status > 299)
      throw new Error(`the audit collector answered ${response.status}`);
  }
}
