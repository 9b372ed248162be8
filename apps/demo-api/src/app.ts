import 'reflect-metadata';
import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import type { DemoConfig } from './config.js';

/** Options for creating the demo application. */
export interface CreateDemoAppOptions {
  /** Nest log levels, or false for none. @default ['log', 'warn', 'error'] */
  logger?: LogLevel[] | false;
}

/**
 * Creates (without listening) the demo API on Express or Fastify.
 * Used by `main.ts` and by the end-to-end tests.
 */
export async function createDemoApp(
  config: DemoConfig,
  options: CreateDemoAppOptions = {},
): Promise<INestApplication> {
  const logger = options.logger ?? ['log', 'warn', 'error'];
  const module = AppModule.register(config);
  const app =
    config.adapter === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), { logger, abortOnError: false })
      : await NestFactory.create(module, { logger, abortOnError: false });
  app.enableShutdownHooks();
  return app;
}
