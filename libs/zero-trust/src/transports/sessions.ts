import { Logger } from '@nestjs/common';
import type { HttpRequestLike } from '../context/request-context.js';
import { ZeroTrustError } from '../errors/zero-trust.error.js';

/** One open connection, as the pipeline decides its messages and operations. @internal */
export interface LiveSession {
  /** The upgrade request: its headers, address and URL (the only place they live once open). */
  readonly handshake: HttpRequestLike;
  /** The `Authorization` value presented apart from the handshake (first message, init payload). */
  authorization?: string;
  /** Settles once authenticated, rejected with the refusal; none: authenticated before kept. */
  readonly ready?: Promise<unknown>;
}

/**
 * The session of each open `ws` socket (a gateway's, kept by `ZeroTrustWsAdapter`, or graphql-ws's,
 * kept by `zeroTrustGraphqlWs`). @internal
 */
export const sessions = new WeakMap<object, LiveSession>();

/**
 * The handshake seen with `authorization` as its `Authorization` header (when given apart), a
 * fresh object each time: each decision has a context of its own. @internal
 */
export function withAuthorization(
  handshake: HttpRequestLike,
  authorization: string | undefined,
  own: PropertyDescriptorMap = {},
): HttpRequestLike {
  if (authorization === undefined) return Object.create(handshake, own) as HttpRequestLike;
  const rawHeaders = [...(handshake.rawHeaders ?? []), 'authorization', authorization];
  return Object.create(handshake, {
    headers: { value: { ...handshake.headers, authorization } },
    rawHeaders: { value: rawHeaders },
    ...own,
  }) as HttpRequestLike;
}

/** A refusal as the data of a socket's `exception` event or an `RpcException`. @internal */
export const refusalBody = (refusal: ZeroTrustError) => ({
  status: 'error' as const,
  statusCode: refusal.getStatus(),
  code: refusal.code,
  message: refusal.message,
});

const logger = new Logger('ZeroTrust');

/**
 * The refusal for `error`: a `ZeroTrustError` as it is; anything else is a fault of ours, logged
 * as `fault` and never shown to the client (503 `ZT_POLICY_FAILED`). @internal
 */
export function refusalOf(error: unknown, fault: string): ZeroTrustError {
  if (error instanceof ZeroTrustError) return error;
  logger.error(fault, error);
  return new ZeroTrustError('ZT_POLICY_FAILED', 503);
}
