import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { contextOf, type HttpRequestLike } from './request-context.js';
import { propagatesRequestId, runWithRequestId } from './request-id.js';

/**
 * Global interceptor: makes the request id the current one for the handler and everything it
 * calls ({@link currentRequestId}), when `propagateRequestId` asks for it.
 *
 * @internal
 */
@Injectable()
export class RequestIdInterceptor implements NestInterceptor {
  constructor(@Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (execution.getType() !== 'http' || !propagatesRequestId(this.options.propagateRequestId))
      return next.handle();
    // Subscribed inside the request id's context: everything the handler starts runs in it.
    const request = execution.switchToHttp().getRequest<HttpRequestLike>();
    const { requestId } = contextOf(request, '', this.options.trustedProxies);
    return new Observable((subscriber) =>
      runWithRequestId(requestId, () => next.handle().subscribe(subscriber)),
    );
  }
}
