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

/** Async options of {@link ZeroTrustClientModule.registerAsync}, and `isGlobal`. @publicApi */
export type ZeroTrustClientModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;

/** Provides a {@link ServiceTokenClient}, independent of `ZeroTrustModule`. @publicApi */
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
