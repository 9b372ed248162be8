import {
  Inject,
  Injectable,
  Optional,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ZERO_TRUST_RATE_LIMITER } from '../zero-trust.constants.js';

/**
 * Global guard, second of the pipeline: the principal's rate limit (`ZeroTrustThrottlerModule`'s
 * guard, when the application imports it), right after authentication and before authorization,
 * risk assessment and any resolver, so an over-limit caller costs none of them. Its place in the
 * chain does not depend on the order in which the application imports its modules.
 *
 * @internal
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    @Optional() @Inject(ZERO_TRUST_RATE_LIMITER) private readonly limiter?: CanActivate,
  ) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    return this.limiter === undefined || (await this.limiter.canActivate(execution)) === true;
  }
}
