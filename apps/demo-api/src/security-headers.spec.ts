import helmet from 'helmet';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { helmetDefaultHeaders } from './app.js';

/** The headers of one response from a real server whose handler is `handle`. */
async function headersFrom(
  handle: (request: IncomingMessage, response: ServerResponse, next: () => void) => void,
): Promise<Record<string, string>> {
  const server = createServer((request, response) => {
    response.setHeader('X-Powered-By', 'Express');
    handle(request, response, () => response.end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`);
    const headers = Object.fromEntries(response.headers);
    for (const name of ['date', 'connection', 'keep-alive', 'content-length']) delete headers[name];
    return headers;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('helmetDefaultHeaders', () => {
  it('gives a response exactly the headers helmet() itself gives it', async () => {
    const { set, removed } = helmetDefaultHeaders();
    const byHelmet = await headersFrom((request, response, next) =>
      helmet()(request, response, next),
    );
    const precomputed = await headersFrom((_request, response, next) => {
      for (const [name, value] of Object.entries(set)) response.setHeader(name, value);
      for (const name of removed) response.removeHeader(name);
      next();
    });
    expect(precomputed).toEqual(byHelmet);
    expect(byHelmet['content-security-policy']).toContain("default-src 'self'");
    expect(byHelmet['x-powered-by']).toBeUndefined();
  });
});
