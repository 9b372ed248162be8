import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { from, mergeAll, Observable } from 'rxjs';
import { contextOf, type HttpRequestLike } from './context/request-context.js';
import { propagatesRequestId, runWithRequestId } from './context/request-id.js';
import type { ResolvedZeroTrustOptions } from './options/validate-options.js';
import { ContextRiskInterceptor } from './risk/risk.interceptor.js';
import { ZERO_TRUST_OPTIONS } from './zero-trust.constants.js';

/**
 * The module's one global interceptor: context risk (enforced after the guards), run inside the
 * request id's async context when `propagateRequestId` asks for it, so that the handler and
 * everything it starts see it (`currentRequestId()`). One interceptor instead of two spares
 * each request a layer of Nest's interceptor chain.
 *
 * @internal
 */
@Injectable()
export class ZeroTrustInterceptor implements NestInterceptor {
  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly risk: ContextRiskInterceptor,
  ) {}

  intercept(
    execution: ExecutionContext,
    next: CallHandler,
  ): Observable<unknown> | Promise<Observable<unknown>> {
    if (execution.getType() !== 'http' || !propagatesRequestId(this.options.propagateRequestId))
      return this.risk.intercept(execution, next);
    const request = execution.switchToHttp().getRequest<HttpRequestLike>();
    const { requestId } = contextOf(request, '', this.options.trustedProxies);
    // Subscribed inside the request id's context: everything the handler starts runs in it.
    return new Observable((subscriber) =>
      runWithRequestId(requestId, () =>
        from(this.risk.intercept(execution, next)).pipe(mergeAll()).subscribe(subscriber),
      ),
    );
  }
}
