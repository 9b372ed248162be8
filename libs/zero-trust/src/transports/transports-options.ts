import * as z from 'zod';
import { optionsObject, says } from '../options/schema-kit.js';

/**
 * Microservice messages (NATS, RabbitMQ) through the same pipeline as HTTP requests. @internal
 */
export const messagesOptions = optionsObject({
  /**
   * How the RabbitMQ server acknowledges: `auto` (Nest's default, `noAck: true`) or `manual`
   * (`noAck: false`): then a refused message is rejected (dead-lettered if the queue says so), as
   * an unacknowledged one would stall the consumer. Must match the server's `noAck`. @default 'auto'
   */
  rabbitMqAck: z.enum(['auto', 'manual'], says('must be "auto" or "manual"')).default('auto'),
});

/** Options of the message transports (`messages`). @publicApi */
export type MessagesOptions = z.input<typeof messagesOptions>;
