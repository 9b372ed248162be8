import {
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
} from '@nestjs/common';

import { ServiceTokenClient } from './service-token-client.js';
import type { ServiceTokenClientOptions } from './validate-client-options.js';

/**
 * Async options of {@link ZeroTrustClientModule.registerAsync}.
 *
 * @publicApi
 */
export interface ZeroTrustClientModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Providers injected into `useFactory`. */
  inject?: InjectionToken[];
  /** Returns the client options (e.g. from `ConfigService`). */
  useFactory: (...args: never[]) => ServiceTokenClientOptions | Promise<ServiceTokenClientOptions>;
  /** Register the client globally. @default false */
  isGlobal?: boolean;
}

/**
 * Provides a {@link ServiceTokenClient} for outgoing calls. Independent of `ZeroTrustModule`:
 * a worker with no HTTP API of its own can import only this. Bad options stop the boot with one
 * `ZeroTrustConfigurationError`; the connection pool is closed on shutdown.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ZeroTrustClientModule.register({ issuer: 'https://idp.example.com', clientId: 'billing-worker', clientSecret }),
 *   ],
 * })
 * export class WorkerModule {}
 * // then: constructor(private readonly tokens: ServiceTokenClient) {}
 * ```
 *
 * @publicApi
 */
@Module({})
export class ZeroTrustClientModule {
  /** Registers a client built from static options. */
  static register(options: ServiceTokenClientOptions & { isGlobal?: boolean }): DynamicModule {
    const { isGlobal, ...clientOptions } = options;
    return {
      module: ZeroTrustClientModule,
      global: isGlobal ?? false,
      providers: [
        { provide: ServiceTokenClient, useFactory: () => new ServiceTokenClient(clientOptions) },
      ],
      exports: [ServiceTokenClient],
    };
  }

  /** Registers a client whose options come from a factory. */
  static registerAsync(options: ZeroTrustClientModuleAsyncOptions): DynamicModule {
    return {
      module: ZeroTrustClientModule,
      global: options.isGlobal ?? false,
      imports: options.imports ?? [],
      providers: [
        {
          provide: ServiceTokenClient,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]) =>
            new ServiceTokenClient(await options.useFactory(...args)),
        },
      ],
      exports: [ServiceTokenClient],
    };
  }
}
