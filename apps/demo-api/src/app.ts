import 'reflect-metadata';
import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from 'helmet';
import { ZeroTrustWsAdapter } from 'nestjs-zero-trust/websockets';
import type { ServerResponse } from 'node:http';
import { AppModule } from './app.module.js';
import type { DemoConfig } from './config.js';
import { connectPaymentEvents } from './payments/payment-events.js';

/** Options for creating the demo application. */
export interface CreateDemoAppOptions {
  /** Nest log levels, or false for none. @default ['log', 'warn', 'error'] */
  logger?: LogLevel[] | false;
}

/**
 * Creates (without listening) the demo API on Express or Fastify, connected to NATS when
 * `natsUrl` is set (start it with `app.startAllMicroservices()` once listening).
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
  connectPaymentEvents(app, config.natsUrl);
  useWebSockets(app);
  return app;
}

/**
 * The invoice updates gateway (`/ws`) on the app's HTTP server, each socket authenticated and
 * watched by the zero-trust module. Used by `createDemoApp` and by the e2e helper.
 */
export function useWebSockets(app: INestApplication): void {
  app.useWebSocketAdapter(new ZeroTrustWsAdapter(app));
}

/**
 * The headers `helmet()` sets with its defaults, read once by running it against a response that
 * only records them. They do not depend on the request (no CSP nonce, nothing computed per
 * request), so every response can get the same set without running helmet's twelve middleware
 * functions each time. The header it removes (`X-Powered-By`) is returned apart.
 */
export function helmetDefaultHeaders(): { set: Record<string, string>; removed: string[] } {
  const set: Record<string, string> = {};
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      // Lower case, as HTTP/1.1 header names are compared and as Fastify stores them.
      set[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      removed.push(name);
    },
  };
  let finished = false;
  helmet()(
    { method: 'GET', url: '/', headers: {} } as never,
    recorder as never,
    (error?: unknown) => {
      if (error) throw error instanceof Error ? error : new Error('helmet refused its defaults');
      finished = true;
    },
  );
  if (!finished)
    throw new Error('helmet did not answer synchronously: its headers cannot be precomputed');
  return { set, removed };
}

/**
 * Security headers (helmet's defaults) on every response, before any other middleware: from an
 * `onRequest` hook on Fastify, as Express middleware otherwise. The header set is computed once
 * at boot (`helmetDefaultHeaders`). Used by `createDemoApp` and by the e2e helper.
 */
export async function useSecurityHeaders(
  app: INestApplication,
  adapter: DemoConfig['adapter'],
): Promise<void> {
  const { set, removed } = helmetDefaultHeaders();
  const names = Object.keys(set);
  if (adapter === 'fastify') {
    (app as NestFastifyApplication)
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', (_request, reply, done) => {
        reply.headers(set);
        done();
      });
  } else {
    app.use((_request: unknown, response: ServerResponse, next: () => void) => {
      for (const name of names) response.setHeader(name, set[name] as string);
      for (const name of removed) response.removeHeader(name);
      next();
    });
  }
}
