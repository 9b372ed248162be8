import * as z from 'zod';
import { numberIn, optionsObject, says } from '../options/schema-kit.js';

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

/**
 * Long-lived connections (WebSockets, GraphQL subscriptions over graphql-ws): each one is closed
 * at its token's `exp` and on a revocation, without waiting for its next message. @internal
 */
export const connectionsOptions = optionsObject({
  /**
   * Seconds between two checks of every open connection's token against the revocation store:
   * how late a revocation made at another instance closes the connections held here (one made at
   * this instance closes them at once). @default 30
   */
  recheckInterval: numberIn(1, 3600, 'must be a number of seconds from 1 to 3600').default(30),
  /**
   * Seconds a WebSocket opened without an `Authorization` header has to send its first message,
   * `{ "event": "authenticate", "data": { "token": "..." } }`, before it is closed. @default 10
   */
  authenticationTimeout: numberIn(0.1, 60, 'must be a number of seconds from 0.1 to 60').default(
    10,
  ),
});

/** Options of long-lived connections (`connections`). @publicApi */
export type ConnectionsOptions = z.input<typeof connectionsOptions>;
