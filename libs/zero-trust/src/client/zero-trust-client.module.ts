import { ConfigurableModuleBuilder, Module } from '@nestjs/common';

import { ServiceTokenClient } from './service-token-client.js';
import type { ServiceTokenClientOptions } from './validate-client-options.js';

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<ServiceTokenClientOptions>({ moduleName: 'ZeroTrustClient' })
    .setExtras({ isGlobal: false }, (definition, { isGlobal }) => ({
      ...definition,
      global: isGlobal,
    }))
    .build();

/**
 * Async options of {@link ZeroTrustClientModule.registerAsync}: `imports`, `inject` and
 * `useFactory` (or `useClass` / `useExisting` of a class whose `create()` does) returning the
 * client options, and `isGlobal`.
 *
 * @publicApi
 */
export type ZeroTrustClientModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;

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
@Module({
  providers: [
    {
      provide: ServiceTokenClient,
      useFactory: (options: ServiceTokenClientOptions) => new ServiceTokenClient(options),
      inject: [MODULE_OPTIONS_TOKEN],
    },
  ],
  exports: [ServiceTokenClient],
})
export class ZeroTrustClientModule extends ConfigurableModuleClass {}
