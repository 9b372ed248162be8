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

/** Makes the request id current for each handler, when `propagateRequestId` asks. @internal */
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

/** The {@link RequestIdInterceptor} or null (`'auto'`: on if a token client exists). @internal */
export function requestIdInterceptorFactory(
  options: ResolvedZeroTrustOptions,
  discovery: DiscoveryService,
): RequestIdInterceptor | null {
  const setting = options.propagateRequestId;
  const forwards = (value: unknown) => typeof value === 'function' && FORWARDS_REQUEST_ID in value;
  const providers = setting === 'auto' ? discovery.getProviders() : [];
  const provided = providers.some((p) => forwards(p.token) || forwards(p.metatype));
  const on = provided || propagatesRequestId(setting);
  requestIdPropagationDecided(setting, on);
  return on ? new RequestIdInterceptor(options) : null;
}
