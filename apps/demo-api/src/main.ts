import type { LogLevel } from '@nestjs/common';
import { createDemoApp } from './app.js';
import { configFromEnv } from './config.js';
import { DEFAULT_IDP_DATA_DIR, listenMutualTls, readMutualTlsSettings } from './mtls.js';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

async function main(): Promise<void> {
  const config = configFromEnv();
  const level = (process.env.LOG_LEVEL ?? 'log') as LogLevel;
  if (!LEVELS.includes(level)) throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')}`);
  const port = Number(process.env.API_PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error('API_PORT must be a port number');
  const mtlsSetting = process.env.API_MTLS_PORT ?? '3443';
  const mtlsPort = mtlsSetting === 'off' ? undefined : Number(mtlsSetting);
  if (mtlsPort !== undefined && (!Number.isInteger(mtlsPort) || mtlsPort < 0 || mtlsPort > 65535))
    throw new Error('API_MTLS_PORT must be a port number or "off"');
  const tls =
    mtlsPort === undefined
      ? undefined
      : await readMutualTlsSettings(process.env.IDP_DATA_DIR?.trim() || DEFAULT_IDP_DATA_DIR);

  const app = await createDemoApp(config, { logger: LEVELS.slice(0, LEVELS.indexOf(level) + 1) });
  await app.listen(port, '127.0.0.1');
  // After init: no message arrives before the module is ready.
  await app.startAllMicroservices();
  if (config.natsUrl !== undefined)
    console.log(`demo-api taking payment.recorded events from ${config.natsUrl}`);
  console.log(
    `demo-api (${config.adapter}) listening on http://127.0.0.1:${port}, trusting issuer ${config.issuer}`,
  );
  if (tls && mtlsPort !== undefined) {
    const listener = await listenMutualTls(app, tls, mtlsPort);
    console.log(
      `demo-api listening for internal callers on ${listener.url} (client certificates of the development CA)`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
