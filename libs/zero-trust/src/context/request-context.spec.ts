import express from 'express';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { contextOf, getZeroTrustContext, type HttpRequestLike } from './request-context.js';

describe('contextOf', () => {
  it('keeps one context per request of a real Express app', async () => {
    const app = express();
    const seen: { same: boolean; id: string }[] = [];
    app.get('/', (request, response) => {
      const first = contextOf(request as HttpRequestLike, '/');
      const again = contextOf(request as HttpRequestLike, '/');
      seen.push({
        same: first === again && getZeroTrustContext(request) === first,
        id: first.requestId,
      });
      response.end('ok');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      for (let i = 0; i < 2; i++) await (await fetch(`http://127.0.0.1:${port}/`)).text();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(seen).toHaveLength(2);
    for (const request of seen) {
      expect(request).toMatchObject({ same: true });
    }
    // Each request has a context of its own.
    expect(seen[0]?.id).not.toBe(seen[1]?.id);
  });

  it('keeps the context on a plain request object (Fastify, Node)', () => {
    const request = { method: 'GET', headers: {} } as unknown as HttpRequestLike;
    const context = contextOf(request, '/x');
    expect(getZeroTrustContext(request)).toBe(context);
    expect(contextOf(request)).toBe(context);
    expect(getZeroTrustContext({})).toBeUndefined();
  });
});
