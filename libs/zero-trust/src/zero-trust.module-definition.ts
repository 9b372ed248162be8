import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ZeroTrustModuleOptions } from './options/zero-trust-options.interface.js';

/**
 * Builder output for {@link ZeroTrustModule}: `forRoot(options)` and
 * `forRootAsync({ imports, inject, useFactory | useClass | useExisting })`, where a class
 * implements `createZeroTrustOptions()`. The module is global unless `isGlobal: false`.
 *
 * @internal
 */
export const {
  ConfigurableModuleClass: ZeroTrustConfigurableModule,
  MODULE_OPTIONS_TOKEN: ZERO_TRUST_MODULE_OPTIONS,
  OPTIONS_TYPE: ZERO_TRUST_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ZERO_TRUST_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ZeroTrustModuleOptions>({ moduleName: 'ZeroTrust' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createZeroTrustOptions')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/**
 * Implemented by a class given to `forRootAsync({ useClass })`.
 *
 * @publicApi
 */
export interface ZeroTrustOptionsFactory {
  createZeroTrustOptions(): ZeroTrustModuleOptions | Promise<ZeroTrustModuleOptions>;
}
