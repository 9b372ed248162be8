import type { LogLevel } from '@nestjs/common';
import { createDemoApp } from './app.js';
import { configFromEnv } from './config.js';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

async function main(): Promise<void> {
  const config = configFromEnv();
  const level = (process.env.LOG_LEVEL ?? 'log') as LogLevel;
  if (!LEVELS.includes(level)) throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')}`);
  const port = Number(process.env.API_PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error('API_PORT must be a port number');
  const app = await createDemoApp(config, { logger: LEVELS.slice(0, LEVELS.indexOf(level) + 1) });
  await app.listen(port, '127.0.0.1');
  console.log(
    `demo-api (${config.adapter}) listening on http://127.0.0.1:${port}, trusting issuer ${config.issuer}`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
