import { Logger } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { SocketRequestLike, TrustedProxies } from './client-address.js';

/**
 * The header carrying the request id, read from trusted proxies and echoed in responses.
 *
 * @publicApi
 */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Letters, digits and `._:-`, 1 to 128 characters: UUIDs, ULIDs, W3C trace ids, ... */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request id of a request: the `X-Request-Id` a trusted proxy sent (when well formed), or
 * a new random UUID. The header from any other peer is ignored.
 *
 * @internal
 */
export function requestIdOf(request: SocketRequestLike, proxies?: TrustedProxies): string {
  const header = request.headers[REQUEST_ID_HEADER];
  if (
    proxies !== undefined &&
    typeof header === 'string' &&
    REQUEST_ID.test(header) &&
    proxies.isTrustedPeer(request)
  ) {
    return header;
  }
  return randomUUID();
}

const current = new AsyncLocalStorage<string>();

/**
 * Marks a provider class that forwards the current request id on outgoing calls (the service
 * token client): `propagateRequestId: 'auto'` turns propagation on when an application provides
 * one, without the core importing the client to recognise it.
 *
 * @internal
 */
export const FORWARDS_REQUEST_ID = Symbol.for('nestjs-zero-trust:forwards-request-id');

/** Whether something in the process reads the current request id (see `propagateRequestId`). */
let wanted = false;
/** Whether an application started with `'auto'` and without propagation (nothing read the id). */
let decidedOffAutomatically = false;

/**
 * Declares that the process reads the current request id (the service token client does, to
 * forward it): applications started afterwards with `propagateRequestId: 'auto'` make it current
 * per request. One that started before cannot any more, and a warning says so.
 *
 * @internal
 */
export function wantRequestIdPropagation(): void {
  if (!wanted && decidedOffAutomatically) {
    new Logger('ZeroTrust').warn(
      'A ServiceTokenClient was created after an application started without request id ' +
        "propagation (propagateRequestId: 'auto'): it cannot forward that application's request " +
        'ids. Provide it through ZeroTrustClientModule, or set propagateRequestId: true.',
    );
  }
  wanted = true;
}

/**
 * Whether the request id is made current per request under `setting`, as far as the process
 * knows (an application's own providers are looked at by the module at boot).
 *
 * @internal
 */
export function propagatesRequestId(setting: boolean | 'auto'): boolean {
  return setting === 'auto' ? wanted : setting;
}

/**
 * Notes what an application decided at boot, so that a client created later can warn.
 *
 * @internal
 */
export function requestIdPropagationDecided(setting: boolean | 'auto', on: boolean): void {
  if (setting === 'auto' && !on) decidedOffAutomatically = true;
}

/**
 * Runs `fn` with `requestId` as the current request id.
 *
 * @internal
 */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return current.run(requestId, fn);
}

/**
 * The id of the request being handled (inside a controller, a service it calls, or anything
 * they start), or `undefined` outside a request. Needs `propagateRequestId: true`, or a
 * `ServiceTokenClient` in the process (see the option). Forward it on outgoing calls as
 * `X-Request-Id` so one id follows a request across services.
 *
 * @example
 * ```ts
 * await fetch(url, { headers: { 'x-request-id': currentRequestId() ?? '' } });
 * ```
 * @publicApi
 */
export function currentRequestId(): string | undefined {
  return current.getStore();
}
