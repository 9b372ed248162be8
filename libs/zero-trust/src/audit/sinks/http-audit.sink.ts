import type { AuditSink } from '../audit-sink.interface.js';
import type { DecisionEvent } from '../decision-event.interface.js';
import { toEcsEvent } from '../ecs.js';
import { isAcceptableKeyUrl } from '../../options/schema-kit.js';

/** Options of {@link HttpAuditSink}. @publicApi */
export interface HttpAuditSinkOptions {
  /**
   * Where to POST events (`application/x-ndjson`, one ECS event per line): HTTPS, or HTTP on a
   * loopback host (a local collector); no credentials in the URL (use `headers`).
   */
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
    // The headers usually carry the collector's key: never over plain HTTP across the network.
    if (!isAcceptableKeyUrl(options.url))
      throw new TypeError(
        'HttpAuditSink: "url" must be an https URL (http only on a loopback host), without credentials',
      );
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
