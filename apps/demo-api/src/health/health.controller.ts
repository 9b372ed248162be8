import { Controller, Get, Optional } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from 'nestjs-zero-trust';
import { ZeroTrustHealthIndicator } from 'nestjs-zero-trust/health';
import { CerbosHealthIndicator } from 'nestjs-zero-trust/cerbos';

/**
 * Public probes. Liveness: the process answers. Readiness (also `/health`): the issuer's keys
 * are loaded and fresh enough, the shared store answers, and the Cerbos PDP when it decides.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly zeroTrust: ZeroTrustHealthIndicator,
    @Optional() private readonly cerbos?: CerbosHealthIndicator,
  ) {}

  /**
   * Not rate limited: the rate counts live in the shared store, and with the store down the
   * throttler would answer 503 here too, so an orchestrator would restart healthy processes.
   */
  @Get('live')
  @Public()
  @SkipThrottle()
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get()
  @Public()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.ready();
  }

  @Get('ready')
  @Public()
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    const { cerbos } = this;
    return this.health.check([
      () => this.zeroTrust.issuer(),
      () => this.zeroTrust.store(),
      ...(cerbos === undefined ? [] : [() => cerbos.check()]),
    ]);
  }
}
