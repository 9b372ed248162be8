import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * Gets a JSON object over HTTP(S) for the key source, with hard bounds: one deadline for the
 * whole exchange (connect, headers and body), a size cap enforced while the body streams in,
 * no redirects, and no connection kept. On the deadline or the cap the socket is destroyed, so
 * an issuer that accepts and never answers (or answers forever) holds no socket or memory.
 *
 * `fetch` is not used: `response.text()` buffers a body of any size before it can be measured
 * (a chunked answer has no `content-length`), and after an abort it re-dials the hung server
 * and keeps idle connections to it.
 *
 * @throws {Error} on a status other than 200, a redirect, a timeout, an oversized or non-JSON body
 * @internal
 */
export function fetchJson(
  url: string,
  options: { timeoutMs: number; maxBytes: number },
): Promise<Record<string, unknown>> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, value?: Record<string, unknown>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve(value as Record<string, unknown>);
    };
    const req = send(
      target,
      { method: 'GET', headers: { accept: 'application/json' }, agent: false },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          finish(new Error(`${url} answered ${res.statusCode ?? 'nothing'}`));
          return;
        }
        if (Number(res.headers['content-length'] ?? 0) > options.maxBytes) {
          finish(new Error(`${url} answered a document too large`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) finish(new Error(`${url} answered a document too large`));
          else chunks.push(chunk);
        });
        res.on('error', (error) => finish(error));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            finish(new Error(`${url} did not answer JSON`));
            return;
          }
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
            finish(new Error(`${url} did not answer a JSON object`));
          else finish(undefined, parsed as Record<string, unknown>);
        });
      },
    );
    const deadline = setTimeout(
      () => finish(new Error(`${url} did not answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.on('error', (error) => finish(error));
    req.end();
  });
}
