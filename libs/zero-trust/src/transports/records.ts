import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  NatsRecordBuilder,
  RmqRecordBuilder,
  type NatsRecord,
  type RmqRecord,
} from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';

/** What the records need of a token source: `ServiceTokenClient` fits. @publicApi */
export interface MessageTokenSource {
  getToken(audience: string): Promise<{ accessToken: string; tokenType: 'Bearer' | 'DPoP' }>;
}

/** The headers of one message to `audience`: its token and a message id of its own. */
async function headersFor(
  tokens: MessageTokenSource,
  audience: string,
): Promise<{ authorization: string; 'message-id': string }> {
  const token = await tokens.getToken(audience);
  // A DPoP-bound token proves possession per HTTP request; a message has no proof to carry.
  if (token.tokenType !== 'Bearer')
    throw new TypeError('Messages carry bearer tokens: use a client without DPoP for them');
  return { authorization: `Bearer ${token.accessToken}`, 'message-id': randomUUID() };
}

/**
 * A NATS record carrying a service token for `audience` (cached and refreshed by the client, as
 * for HTTP) and a fresh message id: `client.send(pattern, await natsRecord(tokens, aud, data))`.
 * @publicApi
 */
export async function natsRecord<T>(
  tokens: MessageTokenSource,
  audience: string,
  data: T,
): Promise<NatsRecord<T>> {
  const headers = natsHeaders();
  for (const [name, value] of Object.entries(await headersFor(tokens, audience)))
    headers.set(name, value);
  return new NatsRecordBuilder(data).setHeaders(headers).build();
}

/** A RabbitMQ record carrying a service token and a message id, as {@link natsRecord}. @publicApi */
export async function rmqRecord<T>(
  tokens: MessageTokenSource,
  audience: string,
  data: T,
): Promise<RmqRecord<T>> {
  const { authorization, 'message-id': messageId } = await headersFor(tokens, audience);
  return new RmqRecordBuilder(data).setOptions({ headers: { authorization }, messageId }).build();
}
