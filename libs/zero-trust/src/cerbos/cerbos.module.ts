import { Module, type DynamicModule, type InjectionToken, type Provider } from '@nestjs/common';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import { POLICY_DECISION_POINT } from '../policy/decision-point.js';
import { CerbosDecisionPoint } from './cerbos-decision-point.js';
import type { CerbosOptions } from './cerbos-options.js';

/** `CerbosModule.forRootAsync` options. @publicApi */
export interface CerbosModuleAsyncOptions {
  imports?: DynamicModule['imports'];
  useFactory: (...args: never[]) => CerbosOptions | Promise<CerbosOptions>;
  inject?: InjectionToken[];
}

const decisionPointFrom = (options: CerbosOptions, metrics?: ZeroTrustMetrics) =>
  new CerbosDecisionPoint(options, metrics?.registry);

/**
 * Makes Cerbos the policy decision point of `@Can` (global; import it once, beside
 * `ZeroTrustModule`): without it, the CASL abilities decide. Also provides
 * {@link CerbosDecisionPoint} for health checks and `PolicyService`. @publicApi
 */
@Module({})
export class CerbosModule {
  /** With options known at import time (checked at once). */
  static forRoot(options: CerbosOptions): DynamicModule {
    return CerbosModule.with({
      provide: CerbosDecisionPoint,
      useFactory: (metrics?: ZeroTrustMetrics) => decisionPointFrom(options, metrics),
      inject: [{ token: ZeroTrustMetrics, optional: true }],
    });
  }

  /** With options from a factory (e.g. `ConfigService`). */
  static forRootAsync(async: CerbosModuleAsyncOptions): DynamicModule {
    const OPTIONS = Symbol('CerbosOptions');
    return {
      ...CerbosModule.with(
        {
          provide: CerbosDecisionPoint,
          useFactory: (options: CerbosOptions, metrics?: ZeroTrustMetrics) =>
            decisionPointFrom(options, metrics),
          inject: [OPTIONS, { token: ZeroTrustMetrics, optional: true }],
        },
        { provide: OPTIONS, useFactory: async.useFactory, inject: async.inject ?? [] },
      ),
      imports: async.imports ?? [],
    };
  }

  private static with(...providers: Provider[]): DynamicModule {
    const alias = { provide: POLICY_DECISION_POINT, useExisting: CerbosDecisionPoint };
    return {
      module: CerbosModule,
      global: true,
      providers: [...providers, alias],
      exports: [CerbosDecisionPoint, POLICY_DECISION_POINT],
    };
  }
}
