import { Controller, Get } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { JwksKeySource, Public } from 'nestjs-zero-trust';

/** Public liveness and readiness: are the issuer's keys loaded? */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly keys: JwksKeySource,
  ) {}

  @Get()
  @Public()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.issuerKeys()]);
  }

  private async issuerKeys(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('issuer_keys');
    if (this.keys.status().keys === 0) await this.keys.refresh().catch(() => undefined);
    const status = this.keys.status();
    const details = { keys: status.keys, refreshedAt: status.refreshedAt?.toISOString() ?? null };
    return status.keys > 0 ? check.up(details) : check.down(details);
  }
}
