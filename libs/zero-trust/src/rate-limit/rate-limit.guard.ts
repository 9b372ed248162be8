import {
  Inject,
  Injectable,
  Optional,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ZERO_TRUST_RATE_LIMITER } from '../zero-trust.constants.js';

/**
 * Global guard right after authentication: `ZeroTrustThrottlerModule`'s guard when imported, so
 * an over-limit caller costs no authorization, risk or resolver, whatever the import order.
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
