import 'reflect-metadata';
import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from 'helmet';
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
  await useSecurityHeaders(app, config.adapter);
  return app;
}

/**
 * Security headers (helmet) on every response, before any other middleware. One `helmet()`
 * middleware is built here, its directives parsed once, and run on every request: as Express
 * middleware, and on Fastify from an `onRequest` hook on the raw request and response
 * (`@fastify/helmet` 13 builds a new helmet, parsing the CSP directives again, per request).
 * Used by `createDemoApp` and by the e2e helper.
 */
export async function useSecurityHeaders(
  app: INestApplication,
  adapter: DemoConfig['adapter'],
): Promise<void> {
  const headers = helmet();
  if (adapter === 'fastify') {
    (app as NestFastifyApplication)
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', (request, reply, done) => {
        headers(request.raw, reply.raw, (error) => done(error as Error | undefined));
      });
  } else app.use(headers);
}
