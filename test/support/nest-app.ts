import {
  Controller,
  Get,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Authenticated } from 'nestjs-zero-trust';

/** `GET /probe`: any authenticated principal gets `ok`. */
@Controller('probe')
export class ProbeController {
  @Get()
  @Authenticated()
  probe(): string {
    return 'ok';
  }
}

/** An application listening on loopback, and its base URL. */
export interface ListeningApp {
  app: INestApplication;
  url: string;
}

/**
 * Compiles `module` into an application on `adapter` (no Nest logs unless `logger` is given) and
 * listens on a free loopback port (`configure` runs first, e.g. to set a WebSocket adapter). A boot error (e.g. a configuration error) rejects, after
 * closing the app.
 */
export async function listenApp(
  module: Type | DynamicModule,
  adapter: 'express' | 'fastify' = 'express',
  logger: LoggerService | false = false,
  configure?: (app: INestApplication) => void,
): Promise<ListeningApp> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
  configure?.(app);
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app.close();
    throw error;
  }
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

/** A Nest logger that keeps every warning and error, to assert on what the boot says. */
export class CapturingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(message: unknown): void {
    this.warnings.push(String(message));
  }
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}
