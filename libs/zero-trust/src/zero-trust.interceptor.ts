import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { from, mergeAll, type Observable } from 'rxjs';
import { RequestIdInterceptor } from './context/request-id.interceptor.js';
import { propagatesRequestId } from './context/request-id.js';
import type { ResolvedZeroTrustOptions } from './options/validate-options.js';
import { ContextRiskInterceptor } from './risk/risk.interceptor.js';
import { ZERO_TRUST_OPTIONS } from './zero-trust.constants.js';

/**
 * The module's one global interceptor: the request id made current (when `propagateRequestId`
 * asks for it) around the context-risk interceptor. One interceptor instead of two spares each
 * request a layer of Nest's interceptor chain.
 *
 * @internal
 */
@Injectable()
export class ZeroTrustInterceptor implements NestInterceptor {
  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly requestIds: RequestIdInterceptor,
    private readonly risk: ContextRiskInterceptor,
  ) {}

  intercept(
    execution: ExecutionContext,
    next: CallHandler,
  ): Observable<unknown> | Promise<Observable<unknown>> {
    if (!propagatesRequestId(this.options.propagateRequestId))
      return this.risk.intercept(execution, next);
    return this.requestIds.intercept(execution, {
      handle: () => from(this.risk.intercept(execution, next)).pipe(mergeAll()),
    });
  }
}
