import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { CerbosDecisionPoint } from './cerbos-decision-point.js';

/**
 * Terminus indicator of the Cerbos PDP: `down` while it does not answer its health check (every
 * `@Can` route then fails closed with 503). Needs the optional peer `@nestjs/terminus`. @publicApi
 */
@Injectable()
export class CerbosHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly pdp: CerbosDecisionPoint,
  ) {}

  /** Asks the PDP for its health. */
  async check<const Key extends string = 'cerbos'>(
    key: Key = 'cerbos' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const { up, status } = await this.pdp.health();
    const check = this.indicator.check(key);
    return up
      ? check.up({ pdp: status })
      : check.down({ pdp: status, message: 'the Cerbos PDP is down' });
  }
}
