import { Controller, Get, Header } from '@nestjs/common';
import { Can, Scopes, ZeroTrustMetrics } from 'nestjs-zero-trust';

/**
 * Prometheus metrics, for the scraper's identity only: the `metrics-scraper` service
 * (client credentials, scope `metrics:read`) may `read` `Metrics`; anyone else gets 401 or 403.
 */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ZeroTrustMetrics) {}

  @Get()
  @Scopes('metrics:read')
  @Can('read', 'Metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async scrape(): Promise<string> {
    return (await this.metrics.scrape()).body;
  }
}
