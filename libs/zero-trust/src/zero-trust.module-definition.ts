import { ConfigurableModuleBuilder } from '@nestjs/common';
import { extras, withExtras } from './continuous-access/receivers.js';
import type { ZeroTrustModuleOptions } from './options/zero-trust-options.interface.js';

/** `forRoot` and `forRootAsync` of {@link ZeroTrustModule}, global by default. @internal */
export const {
  ConfigurableModuleClass: ZeroTrustConfigurableModule,
  MODULE_OPTIONS_TOKEN: ZERO_TRUST_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<ZeroTrustModuleOptions>({ moduleName: 'ZeroTrust' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createZeroTrustOptions')
  .setExtras(extras, withExtras)
  .build();

/** Implemented by a class given to `forRootAsync({ useClass })`. @publicApi */
export interface ZeroTrustOptionsFactory {
  createZeroTrustOptions(): ZeroTrustModuleOptions | Promise<ZeroTrustModuleOptions>;
}
