import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { Observable } from 'rxjs';
import { contextOf, type HttpRequestLike } from './context/request-context.js';
import {
  FORWARDS_REQUEST_ID,
  propagatesRequestId,
  requestIdPropagationDecided,
  runWithRequestId,
} from './context/request-id.js';
import type { ResolvedZeroTrustOptions } from './options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from './zero-trust.constants.js';

/**
 * The request id made current around each handler (`currentRequestId()`), so that the handler
 * and everything it starts see it. Installed only when `propagateRequestId` asks for it: any
 * global interceptor puts Nest's Observable chain around every handler, and the async context
 * makes Node 20 track every promise.
 *
 * @internal
 */
@Injectable()
export class RequestIdInterceptor implements NestInterceptor {
  constructor(@Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (execution.getType() !== 'http') return next.handle();
    const request = execution.switchToHttp().getRequest<HttpRequestLike>();
    const { requestId } = contextOf(request, '', this.options.trustedProxies);
    // Subscribed inside the request id's context: everything the handler starts runs in it.
    return new Observable((subscriber) =>
      runWithRequestId(requestId, () => next.handle().subscribe(subscriber)),
    );
  }
}

/**
 * Decides at boot whether {@link RequestIdInterceptor} is installed: `true` always, `false`
 * never, `'auto'` when the application provides a `ServiceTokenClient` (it forwards the id on
 * outgoing calls) or the process created one before the application started. Nest skips a
 * global interceptor provider whose value is `null`.
 *
 * @internal
 */
export function requestIdInterceptorFactory(
  options: ResolvedZeroTrustOptions,
  discovery: DiscoveryService,
): RequestIdInterceptor | null {
  const setting = options.propagateRequestId;
  const forwards = (value: unknown): boolean =>
    typeof value === 'function' && FORWARDS_REQUEST_ID in value;
  const provided =
    setting === 'auto' &&
    discovery
      .getProviders()
      .some((wrapper) => forwards(wrapper.token) || forwards(wrapper.metatype));
  const on = provided || propagatesRequestId(setting);
  requestIdPropagationDecided(setting, on);
  return on ? new RequestIdInterceptor(options) : null;
}
