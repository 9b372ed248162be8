import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuditService, AuditSink, type DecisionEvent } from 'nestjs-zero-trust/audit';
import { TestIssuer, type TestIssuerOptions } from 'nestjs-zero-trust/testing';
import { DEMO_API_SCOPES } from '../../apps/identity/src/constants.js';
import { useSecurityHeaders, useWebSockets } from '../../apps/demo-api/src/app.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { AppModule } from '../../apps/demo-api/src/app.module.js';
import { DEMO_API_AUDIENCE, type DemoConfig } from '../../apps/demo-api/src/config.js';
import { listenMutualTls, type MutualTlsSettings } from '../../apps/demo-api/src/mtls.js';
import { connectPaymentEvents } from '../../apps/demo-api/src/payments/payment-events.js';
import { demoPdp, onCerbos } from './cerbos.js';

/** Both HTTP adapters: every e2e suite runs on each. */
export const ADAPTERS = ['express', 'fastify'] as const;

/**
 * A test issuer for the demo API: its audience, and every scope the API understands in each
 * token it signs, so that a test's token is judged on its roles as in the demo's policy. A test
 * about scopes gives its own `scope` claim (or omits it: `sign(claims, { omit: ['scope'] })`).
 */
export function startDemoIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  return TestIssuer.start({
    audience: DEMO_API_AUDIENCE,
    ...options,
    claims: { scope: DEMO_API_SCOPES, ...options.claims },
  });
}

/** An audit sink that keeps events in memory so tests can assert on them. */
export class RecordingSink implements AuditSink {
  readonly events: DecisionEvent[] = [];
  write(event: DecisionEvent): void {
    this.events.push(event);
  }
  /** Events of one request, by the request id the guards assigned. */
  last(): DecisionEvent | undefined {
    return this.events.at(-1);
  }
}

/** The audit events of the last request to `api` (they share its request id). */
export function lastRequestEvents(api: RunningApi): DecisionEvent[] {
  const id = api.sink.events.at(-1)?.request.id;
  return api.sink.events.filter((event) => event.request.id === id);
}

/** A running demo API on a random loopback port. */
export interface RunningApi {
  url: string;
  /** The mutual-TLS listener's URL, when started with `mtls`. */
  mtlsUrl?: string;
  app: INestApplication;
  sink: RecordingSink;
  close(): Promise<void>;
}

/**
 * Starts the real demo API module (real guards, real HTTP server, security headers) against
 * `issuer`, with an in-memory audit sink in place of the logger sink. Give `redisUrl` to share
 * state through Redis, `rateLimitPerMinute` to change the rate limit.
 */
export async function startDemoApi(
  config: Partial<DemoConfig> & { issuer: string },
  options: { mtls?: MutualTlsSettings } = {},
): Promise<RunningApi> {
  const full: DemoConfig = {
    audience: DEMO_API_AUDIENCE,
    adapter: 'express',
    mode: 'enforce',
    // POLICY_ENGINE=cerbos: every demo suite runs with the Cerbos PDP deciding.
    ...(onCerbos
      ? { cerbos: { grpc: (await demoPdp(config.reportsWindow)).grpc, timeout: 2000 } }
      : {}),
    ...config,
  };
  const sink = new RecordingSink();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.register(full)] })
    .overrideProvider(AuditSink)
    .useValue(sink)
    .compile();
  const app =
    full.adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await useSecurityHeaders(app, full.adapter);
  // With `natsUrl`: billing-worker's payment.recorded events over that NATS.
  if (full.natsUrl !== undefined) connectPaymentEvents(app, full.natsUrl);
  useWebSockets(app);
  await app.listen(0, '127.0.0.1');
  await app.startAllMicroservices();
  const address = app.getHttpServer().address() as { port: number };
  const mtls = options.mtls ? await listenMutualTls(app, options.mtls, 0) : undefined;
  return {
    url: `http://127.0.0.1:${address.port}`,
    ...(mtls ? { mtlsUrl: mtls.url } : {}),
    app,
    sink,
    close: async () => {
      await mtls?.close();
      await app.close();
    },
  };
}

/** A fetch helper: JSON in and out, with an optional bearer token. */
export async function call(
  api: RunningApi,
  method: string,
  path: string,
  options: {
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
    /** Call the mutual-TLS listener presenting this client certificate. */
    tls?: { key: string; cert: string; ca: string };
  } = {},
): Promise<{
  status: number;
  body: Record<string, unknown> & { code?: string; message?: string };
  headers: Headers;
}> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const init = {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  };
  let response: Response;
  if (options.tls) {
    const dispatcher = new Agent({ connect: options.tls });
    try {
      const answer = await undiciFetch(`${api.mtlsUrl ?? ''}${path}`, { ...init, dispatcher });
      const body = await answer.text();
      response = new Response(body.length > 0 ? body : null, {
        status: answer.status,
        headers: answer.headers,
      });
    } finally {
      await dispatcher.close();
    }
  } else {
    response = await fetch(`${api.url}${path}`, init);
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  if (text.length > 0) {
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { raw: text };
    }
  }
  // Audit events are written off the request path: let them reach the sink before asserting.
  await api.app.get(AuditService).flush();
  return { status: response.status, body, headers: response.headers };
}
