/**
 * `nestjs-zero-trust/messages`: microservice messages (NATS, RabbitMQ) through the zero-trust
 * pipeline. The server side is on with the module's `messages` option; this entry holds the
 * sender's records and the option types. It loads `@nestjs/microservices` and
 * `@nats-io/transport-node`, optional peers of the library.
 *
 * @packageDocumentation
 */
export { natsRecord, rmqRecord, type MessageTokenSource } from './records.js';
export type { MessagesOptions } from './transports-options.js';
