import {
  Controller,
  Inject,
  Post,
  Req,
  Res,
  type DynamicModule,
  type OnModuleInit,
  type Provider,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Readable } from 'node:stream';
import { contextOf, type HttpRequestLike } from '../context/request-context.js';
import { ZeroTrustError } from '../errors/zero-trust.error.js';
import { Public } from '../routes/decorators.js';
import { ContinuousAccessReceiver } from './continuous-access.receiver.js';
import { ContinuousAccessSignal } from './continuous-access.signal.js';
import type { ReceiverRoutes } from './continuous-access-options.js';
import { SignalRefusal, type RefusalKind } from './signal-token.js';

/** Injection token of the mounted receivers' paths (checked against the options). @internal */
export const ZERO_TRUST_RECEIVERS = 'ZERO_TRUST:RECEIVERS';

const SET_MEDIA_TYPE = 'application/secevent+jwt';
const MAX_SET_BODY = 65_536;

/** RFC 8935 §2.3 error codes. */
const SET_ERRORS: Record<RefusalKind, string> = {
  request: 'invalid_request',
  issuer: 'invalid_issuer',
  audience: 'invalid_audience',
  key: 'invalid_key',
  authentication: 'authentication_failed',
  unavailable: 'temporarily_unavailable',
};

/** A store or key outage is the sender's cue to retry; anything else is a bug, rethrown. */
function asRefusal(error: unknown): SignalRefusal {
  if (error instanceof SignalRefusal) return error;
  if (error instanceof ZeroTrustError && error.getStatus() === 503)
    return new SignalRefusal('unavailable', error.message);
  throw error;
}

/** Base of both receivers: answers in the sender's protocol, never cached. */
abstract class ReceiverEndpoint {
  constructor(
    @Inject(ContinuousAccessReceiver) protected readonly receiver: ContinuousAccessReceiver,
    @Inject(HttpAdapterHost) protected readonly host: HttpAdapterHost,
  ) {}

  /** Answers the status `work` resolves to, or a refusal's status with {@link refusal}'s body. */
  protected async answer(response: unknown, work: () => Promise<number>): Promise<void> {
    const { httpAdapter } = this.host;
    let status: number;
    let body: Record<string, string> | undefined;
    try {
      status = await work();
    } catch (error) {
      const refusal = asRefusal(error);
      status = refusal.kind === 'unavailable' ? 503 : refusal.kind === 'authentication' ? 401 : 400;
      body = this.refusal(refusal);
    }
    httpAdapter.setHeader(response, 'Cache-Control', 'no-store');
    if (status === 503) httpAdapter.setHeader(response, 'Retry-After', '5');
    httpAdapter.reply(response, body, status);
  }

  protected abstract refusal(refusal: SignalRefusal): Record<string, string>;
}

function backchannelLogoutController(path: string): Type {
  /** OpenID Connect Back-Channel Logout 1.0 §2.5: `logout_token` in a form POST. */
  @Public()
  @Controller()
  class BackchannelLogoutController extends ReceiverEndpoint {
    @Post(path)
    async receive(@Req() request: HttpRequestLike, @Res() response: unknown): Promise<void> {
      await this.answer(response, async () => {
        const body = request.body as Record<string, unknown> | undefined;
        await this.receiver.logout(body?.logout_token, contextOf(request));
        return 200;
      });
    }

    protected refusal({ kind, message }: SignalRefusal): Record<string, string> {
      const error = kind === 'unavailable' ? 'temporarily_unavailable' : 'invalid_request';
      return { error, error_description: message };
    }
  }
  return BackchannelLogoutController;
}

function sharedSignalsController(path: string): Type {
  /** RFC 8935 push: one `application/secevent+jwt` per POST, 202 once applied. */
  @Public()
  @Controller()
  class SharedSignalsController extends ReceiverEndpoint implements OnModuleInit {
    /** Fastify refuses media types it has no parser for: the SET media type gets one. */
    onModuleInit(): void {
      const adapter = this.host.httpAdapter;
      if (adapter?.getType() !== 'fastify') return;
      const fastify = adapter.getInstance<{
        hasContentTypeParser(type: string): boolean;
        addContentTypeParser(
          type: string,
          options: { parseAs: 'string'; bodyLimit: number },
          parser: (request: unknown, body: string, done: (e: null, b: string) => void) => void,
        ): void;
      }>();
      if (!fastify.hasContentTypeParser(SET_MEDIA_TYPE))
        fastify.addContentTypeParser(
          SET_MEDIA_TYPE,
          { parseAs: 'string', bodyLimit: MAX_SET_BODY },
          (_request, body, done) => done(null, body),
        );
    }

    @Post(path)
    async receive(@Req() request: HttpRequestLike, @Res() response: unknown): Promise<void> {
      await this.answer(response, async () => {
        const headers = (request as { headers: Record<string, string | undefined> }).headers;
        const type = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
        if (type !== SET_MEDIA_TYPE)
          throw new SignalRefusal('request', `the body must be ${SET_MEDIA_TYPE}`);
        const token = (await bodyText(request))?.trim();
        await this.receiver.securityEvent(token, headers.authorization, contextOf(request));
        return 202;
      });
    }

    protected refusal({ kind, message }: SignalRefusal): Record<string, string> {
      return { err: SET_ERRORS[kind], description: message };
    }
  }
  return SharedSignalsController;
}

/** The raw body: parsed as text by Fastify (above) or an app's parser, else read here. */
async function bodyText(request: HttpRequestLike): Promise<string | undefined> {
  const { body } = request;
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  const stream = request as unknown as Readable;
  if (typeof stream.on !== 'function' || stream.readableEnded) return undefined;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_SET_BODY) throw new SignalRefusal('request', 'the body is too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The extras of `forRoot` / `forRootAsync`: global by default, the receivers' routes. @internal */
export const extras: { isGlobal: boolean; receivers: ReceiverRoutes } = {
  isGlobal: true,
  receivers: {},
};

/**
 * Applies the extras to the module: the configured receivers' controllers at their routes, the
 * receiver and, for Shared Signals, the risk signal applying CAEP's state-like events. @internal
 */
export function withExtras(dynamic: DynamicModule, given: typeof extras): DynamicModule {
  const routes = given.receivers ?? {};
  const controllers: Type[] = [];
  const providers: Provider[] = [{ provide: ZERO_TRUST_RECEIVERS, useValue: routes }];
  if (routes.backchannelLogout !== undefined)
    controllers.push(backchannelLogoutController(routes.backchannelLogout));
  if (routes.sharedSignals !== undefined) {
    controllers.push(sharedSignalsController(routes.sharedSignals));
    providers.push(ContinuousAccessSignal);
  }
  if (controllers.length > 0) providers.push(ContinuousAccessReceiver);
  return {
    ...dynamic,
    global: given.isGlobal,
    controllers: [...(dynamic.controllers ?? []), ...controllers],
    providers: [...(dynamic.providers ?? []), ...providers],
  };
}
