/**
 * The demo API's second listener, for internal callers: HTTPS on `127.0.0.1:3443` that asks
 * every client for a certificate and completes the handshake only with one issued by the demo's
 * development CA (created by the identity provider in its data directory). The same Nest
 * application answers on both listeners, whichever the HTTP adapter (Express or Fastify).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { INestApplication } from '@nestjs/common';

/** Key, certificate and trusted CA of the mutual-TLS listener (PEM). */
export interface MutualTlsSettings {
  key: string;
  cert: string;
  /** Client certificates must chain to this CA. */
  ca: string;
}

/** A started mutual-TLS listener. */
export interface MutualTlsListener {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Default IdP data directory (`apps/identity/.data`), from `src` or `dist`. */
export const DEFAULT_IDP_DATA_DIR = fileURLToPath(new URL('../../identity/.data', import.meta.url));

/**
 * Reads the demo API's certificate (`spiffe://demo.local/demo-api`) and the development CA
 * from `<dataDir>/pki`.
 *
 * @throws Error naming the directory when the files are missing
 */
export async function readMutualTlsSettings(dataDir: string): Promise<MutualTlsSettings> {
  const dir = join(dataDir, 'pki');
  try {
    const [key, cert, ca] = await Promise.all(
      ['demo-api.key', 'demo-api.crt', 'ca.crt'].map((name) => readFile(join(dir, name), 'utf8')),
    );
    return { key: key ?? '', cert: cert ?? '', ca: ca ?? '' };
  } catch {
    throw new Error(
      `no development PKI in ${dir}: start the identity provider first, or set API_MTLS_PORT=off`,
    );
  }
}

/**
 * Serves `app` (already initialised, e.g. after `app.listen`) on a second, HTTPS listener
 * with client certificates required (`requestCert`, `rejectUnauthorized`: a client without a
 * certificate of the CA never gets past the handshake). Requests are handed to the app's own
 * HTTP server, so guards and handlers see the TLS socket (`request.socket.getPeerCertificate()`).
 */
export function listenMutualTls(
  app: INestApplication,
  settings: MutualTlsSettings,
  port: number,
  host = '127.0.0.1',
): Promise<MutualTlsListener> {
  const httpServer = app.getHttpServer() as Server;
  const server = createServer(
    { ...settings, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    (req, res) => httpServer.emit('request', req, res),
  );
  return new Promise((resolveListener, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      resolveListener({
        port: bound,
        url: `https://${host}:${bound}`,
        close: () =>
          new Promise((resolveClose) => {
            server.close(() => resolveClose());
            server.closeAllConnections();
          }),
      });
    });
  });
}
