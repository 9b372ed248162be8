import { Logger } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { SocketRequestLike, TrustedProxies } from './client-address.js';

/** Letters, digits and `._:-`, 1 to 128 characters: UUIDs, ULIDs, W3C trace ids, ... */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The well-formed `X-Request-Id` of a trusted proxy, or a new random UUID. @internal */
export function requestIdOf(request: SocketRequestLike, proxies?: TrustedProxies): string {
  const header = request.headers['x-request-id'];
  if (typeof header === 'string' && REQUEST_ID.test(header) && proxies?.isTrustedPeer(request))
    return header;
  return randomUUID();
}

const current = new AsyncLocalStorage<string>();

/** Marks a provider that forwards the request id, for `propagateRequestId: 'auto'`. @internal */
export const FORWARDS_REQUEST_ID = Symbol.for('nestjs-zero-trust:forwards-request-id');

let wanted = false;
/** An application started with `'auto'` and decided against propagation. */
let decidedOffAutomatically = false;

/** Declares that the process reads the current request id, for `'auto'` propagation. @internal */
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

/** Whether `setting` makes the request id current per request. @internal */
export function propagatesRequestId(setting: boolean | 'auto'): boolean {
  return setting === 'auto' ? wanted : setting;
}

/** Notes an application's boot-time decision, so that a client created later can warn. @internal */
export function requestIdPropagationDecided(setting: boolean | 'auto', on: boolean): void {
  if (setting === 'auto' && !on) decidedOffAutomatically = true;
}

/** Runs `fn` with `requestId` as the current request id. @internal */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return current.run(requestId, fn);
}

/**
 * The id of the request being handled, or `undefined` outside one (needs `propagateRequestId:
 * true` or a `ServiceTokenClient`). Forward it as `X-Request-Id`. @publicApi
 */
export function currentRequestId(): string | undefined {
  return current.getStore();
}
