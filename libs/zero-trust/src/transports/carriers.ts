import type { ExecutionContext } from '@nestjs/common';

/** What the pipeline reads of a message, whatever its transport. @internal */
export interface Carrier {
  readonly transport: 'nats' | 'rmq';
  /** The `authorization` header's value (`Bearer <token>`), if any. */
  readonly token: string | undefined;
  /** The sender's message id, if any. */
  readonly messageId: string | undefined;
  /** The subject or pattern the message came on. */
  readonly pattern: string;
  /** Rejects the message (RabbitMQ, manual acknowledgements): dead-lettered, never requeued. */
  reject(): void;
}

interface NatsContextLike {
  getSubject(): string;
  getHeaders(): { get(key: string): string } | undefined;
}
interface RmqContextLike {
  getPattern(): string;
  getMessage(): { properties: { headers?: Record<string, unknown>; messageId?: unknown } };
  getChannelRef(): { nack(message: unknown, allUpTo: boolean, requeue: boolean): void };
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/**
 * The carrier of a `rpc` execution, told by the shape of its transport context (the
 * `@nestjs/microservices` classes are not loaded unless the app uses them); undefined for a
 * transport this library does not read. @internal
 */
export function carrierOf(execution: ExecutionContext): Carrier | undefined {
  const context: unknown = execution.getArgByIndex(1);
  if (typeof context !== 'object' || context === null) return undefined;
  if ('getSubject' in context && 'getHeaders' in context) {
    const nats = context as NatsContextLike;
    const headers = nats.getHeaders();
    return {
      transport: 'nats',
      token: text(headers?.get('authorization')),
      messageId: text(headers?.get('message-id')),
      pattern: nats.getSubject(),
      reject: () => undefined,
    };
  }
  if ('getChannelRef' in context && 'getMessage' in context) {
    const rmq = context as RmqContextLike;
    const message = rmq.getMessage();
    const { headers = {}, messageId } = message.properties;
    return {
      transport: 'rmq',
      token: text(headers.authorization),
      messageId: text(messageId),
      pattern: rmq.getPattern(),
      reject: () => rmq.getChannelRef().nack(message, false, false),
    };
  }
  return undefined;
}
