import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { shownValue } from './shown-value.js';

/**
 * Largest answer read from an identity provider (discovery, key set, token response), in bytes.
 * Big enough for the key set of a large provider, small enough that a hostile one costs little.
 */
const MAX_BYTES = 512 * 1024;
/** `application/json` and the `+json` types (`application/jwk-set+json`, ...). */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * One request to an identity provider: `timeoutMs` bounds the whole exchange, `form` is a
 * form-encoded body, `tls` a client certificate (mutual TLS) and the servers' CA bundle.
 *
 * @internal
 */
export interface JsonRequest {
  timeoutMs: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  form?: URLSearchParams;
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer | (string | Buffer)[] };
}

/**
 * An answer; `json` is the body when it is declared JSON and parses. A redirect is an answer
 * like any other: it is never followed.
 *
 * @internal
 */
export interface JsonResponse {
  status: number;
  headers: IncomingHttpHeaders;
  json: unknown;
}

/**
 * Why {@link requestJson} got no answer.
 *
 * @internal
 */
export class HttpJsonError extends Error {
  constructor(
    readonly reason: 'timeout' | 'too-large' | 'network',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpJsonError';
  }
}

/** `origin + path` of a URL: what a message may name (no query, no credentials). */
export function describeUrl(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'an invalid URL';
  }
}

/**
 * The one JSON-over-HTTP exchange of the library, for discovery, key sets and token requests,
 * with hard bounds: one deadline for the whole exchange, a size cap enforced while the body
 * streams in, no redirects followed, no connection kept, JSON read only from a JSON content
 * type. On the deadline or the cap the socket is destroyed, so an identity provider that
 * accepts and never answers (or answers forever) holds no socket or memory.
 *
 * `fetch` is not used: `response.text()` buffers a body of any size before it can be measured,
 * after an abort it re-dials the hung server, and it cannot present a client certificate.
 *
 * @throws {HttpJsonError} on a timeout, an oversized body or a network error
 * @internal
 */
export function requestJson(url: string, options: JsonRequest): Promise<JsonResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = options.form?.toString();
  const headers: Record<string, string> = { ...options.headers, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  const { tls } = options;
  const where = describeUrl(target);
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, value?: JsonResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve(value as JsonResponse);
    };
    const tooLarge = (): HttpJsonError =>
      new HttpJsonError('too-large', `${where} answered a document too large`);
    const req = send(
      target,
      {
        method: options.method ?? 'GET',
        headers,
        agent: false,
        ...tls,
      },
      (res: IncomingMessage) => {
        if (Number(res.headers['content-length'] ?? 0) > MAX_BYTES) return finish(tooLarge());
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BYTES) finish(tooLarge());
          else chunks.push(chunk);
        });
        res.on('error', (error) =>
          finish(new HttpJsonError('network', error.message, { cause: error })),
        );
        res.on('end', () => {
          let json: unknown;
          try {
            if (JSON_TYPE.test(res.headers['content-type'] ?? ''))
              json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // not JSON after all: json stays undefined
          }
          finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, json });
        });
      },
    );
    const deadline = setTimeout(
      () =>
        finish(
          new HttpJsonError('timeout', `${where} did not answer within ${options.timeoutMs} ms`),
        ),
      options.timeoutMs,
    );
    req.on('error', (error) =>
      finish(new HttpJsonError('network', `${where}: ${error.message}`, { cause: error })),
    );
    req.end(body);
  });
}

/**
 * A JSON object answered with 200 (a discovery document, a key set).
 *
 * @throws {Error} on another status (a redirect too), a body that is not a JSON object, and
 *   whatever {@link requestJson} throws
 * @internal
 */
export async function fetchJson(
  url: string,
  options: Omit<JsonRequest, 'method' | 'form'>,
): Promise<Record<string, unknown>> {
  const { status, json } = await requestJson(url, options);
  const where = describeUrl(url);
  if (status !== 200) throw new Error(`${where} answered ${status}`);
  if (json === undefined) throw new Error(`${where} did not answer JSON`);
  if (!isRecord(json)) throw new Error(`${where} did not answer a JSON object`);
  return json;
}

/**
 * The metadata of `issuer`: its OpenID Connect discovery document, or else its RFC 8414
 * authorization server metadata. The document must name `issuer` exactly (OpenID Connect
 * Discovery §4.3, RFC 8414 §3.3), or it could send keys and tokens elsewhere.
 *
 * @throws {Error} when neither document is usable, or one names another issuer
 * @internal
 */
export async function discoverMetadata(
  issuer: string,
  options: Omit<JsonRequest, 'method' | 'form'>,
): Promise<Record<string, unknown>> {
  const base = issuer.replace(/\/+$/, '');
  let failure: unknown;
  for (const suffix of ['openid-configuration', 'oauth-authorization-server']) {
    let doc: Record<string, unknown>;
    try {
      doc = await fetchJson(`${base}/.well-known/${suffix}`, options);
    } catch (error) {
      if (error instanceof HttpJsonError) throw error; // the server itself is unusable
      failure ??= error;
      continue;
    }
    if (doc.issuer !== issuer) {
      throw new Error(
        `the discovery document names issuer ${shownValue(doc.issuer)}, expected ${shownValue(issuer)}`,
      );
    }
    return doc;
  }
  throw failure;
}

/** Whether a value is a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
