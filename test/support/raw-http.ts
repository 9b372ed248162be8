import { createServer, request, type Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The answer to a raw request. `status` is 0 when the server closed without answering. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The socket error, when `status` is 0. */
  error?: string;
}

/**
 * Sends one request with `node:http`, headers and path exactly as given (no normalization), so
 * malformed input reaches the server. Never rejects: a socket error resolves with status 0.
 */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    path?: string;
    /** An array repeats the header. */
    headers?: Record<string, string | string[]>;
    body?: string | Buffer;
    agent?: Agent;
    timeoutMs?: number;
  } = {},
): Promise<RawResponse> {
  const target = new URL(url);
  const headers = { ...options.headers };
  // A body goes with its length (a chunked body on GET makes some servers answer twice).
  if (options.body !== undefined && !Object.keys(headers).some((h) => /^content-length$/i.test(h)))
    headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers,
        // A fresh connection unless an agent is given: a server may close after refusing.
        agent: options.agent ?? false,
        insecureHTTPParser: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: '',
            error: error.message,
          }),
        );
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ status: 0, headers: {}, body: '', error: error.message }));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/**
 * A loopback HTTP listener that counts every request it receives: point `jku`, `x5u` or
 * payloads at it, then assert it was never called.
 */
export interface CountingListener {
  url: string;
  readonly hits: number;
  close(): Promise<void>;
}

/** Starts a {@link CountingListener} on a random port. */
export async function startCountingListener(): Promise<CountingListener> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits += 1;
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get hits() {
      return hits;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
