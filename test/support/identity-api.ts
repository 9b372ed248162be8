import { request as httpsRequest } from 'node:https';
import { Controller, Get, Module, Post, Req, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuditService, AuditSink } from 'nestjs-zero-trust/audit';
import {
  Authenticated,
  getZeroTrustContext,
  ZeroTrustModule,
  type ZeroTrustModuleOptions,
} from 'nestjs-zero-trust';
import type { TestCertificate, TestCertificateAuthority } from 'nestjs-zero-trust/testing';
import { RecordingSink } from './demo-api.js';

/** Echoes what the guards established about the caller. */
@Controller()
class WhoAmIController {
  @Get('me')
  @Authenticated()
  me(@Req() request: object): Record<string, unknown> {
    const context = getZeroTrustContext(request);
    return {
      kind: context?.principal?.kind,
      id: context?.principal?.id,
      certificate: context?.certificate ?? null,
      dpop: context?.dpop ?? null,
    };
  }

  @Post('me')
  @Authenticated()
  post(@Req() request: object): Record<string, unknown> {
    return this.me(request);
  }
}

/** A running HTTPS test API with `requestCert: true`. */
export interface RunningIdentityApi {
  /** `https://127.0.0.1:<port>` */
  url: string;
  app: INestApplication;
  sink: RecordingSink;
  close(): Promise<void>;
}

/**
 * Starts a minimal Nest app protected by the zero-trust module on HTTPS: the server certificate
 * comes from `ca`, client certificates are requested and checked against `ca` (but a connection
 * without one, or with an untrusted one, still reaches the app, which decides).
 */
export async function startIdentityApi(options: {
  adapter: 'express' | 'fastify';
  ca: Pick<TestCertificateAuthority, 'cert'>;
  server: Pick<TestCertificate, 'cert' | 'key'>;
  zeroTrust: Omit<ZeroTrustModuleOptions, 'audit'>;
}): Promise<RunningIdentityApi> {
  @Module({
    imports: [ZeroTrustModule.forRoot(options.zeroTrust)],
    controllers: [WhoAmIController],
  })
  class IdentityApiModule {}

  const sink = new RecordingSink();
  const moduleRef = await Test.createTestingModule({ imports: [IdentityApiModule] })
    .overrideProvider(AuditSink)
    .useValue(sink)
    .compile();
  const https = {
    ca: options.ca.cert,
    cert: options.server.cert,
    key: options.server.key,
    requestCert: true,
    rejectUnauthorized: false,
  };
  const app =
    options.adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter({ https }), { logger: false })
      : moduleRef.createNestApplication({ httpsOptions: https, logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `https://127.0.0.1:${address.port}`;
  // Audit events are written off the request path: answers wait for them, so a test can read them.
  running.set(url, () => app.get(AuditService).flush());
  return {
    url,
    app,
    sink,
    close: async () => {
      running.delete(url);
      await app.close();
    },
  };
}

/** Flushes the audit buffer of each running API, by origin. */
const running = new Map<string, () => Promise<void>>();

/** The answer of {@link httpsCall}. */
export interface HttpsAnswer {
  status: number;
  body: Record<string, unknown> & { code?: string; message?: string };
  challenge: string | undefined;
}

/**
 * One HTTPS request on a fresh connection (no pooling: each call has its own certificate),
 * trusting `ca` for the server. `headers` may repeat a name by giving an array.
 */
export function httpsCall(
  url: string,
  options: {
    ca: string;
    method?: string;
    client?: Pick<TestCertificate, 'cert' | 'key'>;
    headers?: Record<string, string | string[]>;
    localAddress?: string;
  },
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        ...options.client,
        headers: options.headers,
        agent: false,
        ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> = {};
          try {
            body = text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = { raw: text };
          }
          const challenge = response.headers['www-authenticate'];
          const flush = running.get(new URL(url).origin) ?? (() => Promise.resolve());
          void flush().then(() =>
            resolve({
              status: response.statusCode ?? 0,
              body,
              challenge: Array.isArray(challenge) ? challenge.join(', ') : challenge,
            }),
          );
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end();
  });
}
