import { Module, type DynamicModule, type InjectionToken } from '@nestjs/common';
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

/**
 * Makes Cerbos the policy decision point of `@Can` (global; import it once, beside
 * `ZeroTrustModule`): without it, the CASL abilities decide. Also provides
 * {@link CerbosDecisionPoint} for health checks and `PolicyService`. @publicApi
 */
@Module({})
export class CerbosModule {
  /** With options known at import time (checked when the module boots). */
  static forRoot(options: CerbosOptions): DynamicModule {
    return CerbosModule.forRootAsync({ useFactory: () => options });
  }

  /** With options from a factory (e.g. `ConfigService`). */
  static forRootAsync(async: CerbosModuleAsyncOptions): DynamicModule {
    const OPTIONS = Symbol('CerbosOptions');
    return {
      module: CerbosModule,
      global: true,
      imports: async.imports ?? [],
      providers: [
        { provide: OPTIONS, useFactory: async.useFactory, inject: async.inject ?? [] },
        {
          provide: CerbosDecisionPoint,
          useFactory: (options: CerbosOptions, metrics?: ZeroTrustMetrics) =>
            new CerbosDecisionPoint(options, metrics?.registry),
          inject: [OPTIONS, { token: ZeroTrustMetrics, optional: true }],
        },
        { provide: POLICY_DECISION_POINT, useExisting: CerbosDecisionPoint },
      ],
      exports: [CerbosDecisionPoint, POLICY_DECISION_POINT],
    };
  }
}
