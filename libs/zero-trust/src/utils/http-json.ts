import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { once } from 'node:events';

/** Largest answer read from an identity provider: a large key set, little for a hostile one. */
const MAX_BYTES = 512 * 1024;
/** `application/json` and the `+json` types (`application/jwk-set+json`, ...). */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** One request: `timeoutMs` bounds the whole exchange; `tls` is for mutual TLS. @internal */
export interface JsonRequest {
  timeoutMs: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  form?: URLSearchParams;
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer | (string | Buffer)[] };
}

/** Why {@link requestJson} got no answer. @internal */
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
  const parsed = URL.parse(String(url));
  return parsed ? `${parsed.origin}${parsed.pathname}` : 'an invalid URL';
}

/**
 * The library's one JSON-over-HTTP exchange: one deadline, a size cap while the body streams in,
 * no redirect, no kept connection. Not `fetch`, which buffers a body of any size, re-dials a hung
 * server after an abort, and cannot present a client certificate. The answer may be a redirect
 * (none is followed); `json` is a JSON body that parses. @throws {HttpJsonError} @internal
 */
export async function requestJson(
  url: string,
  options: JsonRequest,
): Promise<{ status: number; headers: IncomingHttpHeaders; json: unknown }> {
  const target = new URL(url);
  const where = describeUrl(target);
  const body = options.form?.toString();
  const headers: Record<string, string> = { ...options.headers, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const method = options.method ?? 'GET';
  const req = send(target, { method, headers, agent: false, ...options.tls });
  req.on('error', () => undefined); // reported by `once` or the body's iteration
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    req.destroy();
  }, options.timeoutMs);
  const tooLarge = new HttpJsonError('too-large', `${where} answered a document too large`);
  try {
    req.end(body);
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    if (Number(res.headers['content-length'] ?? 0) > MAX_BYTES) throw tooLarge;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BYTES) throw tooLarge;
      chunks.push(chunk);
    }
    let json: unknown;
    try {
      if (JSON_TYPE.test(res.headers['content-type'] ?? ''))
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      // not JSON after all
    }
    return { status: res.statusCode ?? 0, headers: res.headers, json };
  } catch (error) {
    req.destroy();
    if (error instanceof HttpJsonError) throw error;
    if (timedOut)
      throw new HttpJsonError('timeout', `${where} did not answer within ${options.timeoutMs} ms`);
    throw new HttpJsonError('network', `${where}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(deadline);
  }
}

/** A JSON object answered with 200 (a discovery document, a key set). @internal */
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
 * The OpenID Connect discovery document of `issuer`, else its RFC 8414 metadata. It must name
 * `issuer` exactly (OIDC Discovery §4.3, RFC 8414 §3.3), or it could send keys elsewhere. @internal
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
    if (doc.issuer === issuer) return doc;
    const named = shownValue(doc.issuer);
    throw new Error(`the discovery document names issuer ${named}, expected ${shownValue(issuer)}`);
  }
  throw failure;
}

/** A fetched value for a message: a string quoted and cut at 200 characters, else its type. */
function shownValue(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? 'none' : `a ${typeof value}`;
  const quoted = JSON.stringify(value);
  return quoted.length > 202 ? `${quoted.slice(0, 201)}…"` : quoted;
}

/** Whether a value is a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
