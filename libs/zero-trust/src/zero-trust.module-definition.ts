import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ReceiverRoutes } from './continuous-access/continuous-access-options.js';
import { mountReceivers } from './continuous-access/receivers.js';
import type { ZeroTrustModuleOptions } from './options/zero-trust-options.interface.js';

const noReceivers: ReceiverRoutes = {};

/** `forRoot` and `forRootAsync` of {@link ZeroTrustModule}, global by default. @internal */
export const {
  ConfigurableModuleClass: ZeroTrustConfigurableModule,
  MODULE_OPTIONS_TOKEN: ZERO_TRUST_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<ZeroTrustModuleOptions>({ moduleName: 'ZeroTrust' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createZeroTrustOptions')
  .setExtras({ isGlobal: true, receivers: noReceivers }, (dynamic, extras) =>
    mountReceivers({ ...dynamic, global: extras.isGlobal }, extras.receivers),
  )
  .build();

/** Implemented by a class given to `forRootAsync({ useClass })`. @publicApi */
export interface ZeroTrustOptionsFactory {
  createZeroTrustOptions(): ZeroTrustModuleOptions | Promise<ZeroTrustModuleOptions>;
}
