import type { DynamicModule } from '@nestjs/common';
import { AppModule } from './app.module.js';
import { configFromEnv } from './config.js';

/**
 * The demo API's module for the route inventory (`npm run routes`): the configuration `main.ts`
 * reads from the environment, with the store in memory (no Redis needed) and logs off, so the
 * inventory boots without any server and prints the routes a real start would serve.
 */
export function inventory(): DynamicModule {
  const { redisUrl: _redis, ...config } = configFromEnv();
  return AppModule.register({ ...config, logLevel: 'silent', accessLog: false });
}
