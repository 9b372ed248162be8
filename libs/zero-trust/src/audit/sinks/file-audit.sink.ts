import { createWriteStream, type WriteStream } from 'node:fs';
import type { AuditSink } from '../audit-sink.interface.js';
import type { DecisionEvent } from '../decision-event.interface.js';
import { toEcsEvent } from '../ecs.js';

/**
 * Appends one ECS event per line to a file (created with mode 0600), for Filebeat or Elastic
 * Agent to ship. Rotate it with your log rotation's copy-and-truncate. @publicApi
 */
export class FileAuditSink implements AuditSink {
  private readonly stream: WriteStream;

  constructor(
    path: string,
    private readonly serviceName?: string,
  ) {
    this.stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  }

  write(event: DecisionEvent): Promise<void> {
    const line = `${JSON.stringify(toEcsEvent(event, this.serviceName))}\n`;
    return new Promise((resolve, reject) => {
      this.stream.write(line, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
