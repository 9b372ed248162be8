import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { requestTokens, tokenEndpointOf } from './token-endpoint.js';

describe('tokenEndpointOf', () => {
  it('names both issuers when the discovery document names another one', async () => {
    const server = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ issuer: 'https://evil.example', token_endpoint: 'https://x/t' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(
        tokenEndpointOf({ issuer, clientId: 'svc', timeoutMs: 2000 })(),
      ).rejects.toMatchObject({
        code: 'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
        message: expect.stringContaining(
          `the discovery document names issuer "https://evil.example", expected "${issuer}"`,
        ) as unknown,
      });
    } finally {
      server.close();
    }
  });
});

describe('tokenEndpointOf', () => {
  it('refuses a discovered token endpoint over plain HTTP off loopback', async () => {
    let issuer = '';
    const server = createServer((_req, res) => {
      const doc = { issuer, token_endpoint: 'http://idp.example.com/token' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(
        tokenEndpointOf({ issuer, clientId: 'svc', timeoutMs: 2000 })(),
      ).rejects.toMatchObject({
        code: 'ZT_TOKEN_ENDPOINT_UNAVAILABLE',
        message: expect.stringContaining('has no acceptable token_endpoint') as unknown,
      });
    } finally {
      server.close();
    }
  });
});

describe('requestTokens', () => {
  it('refuses invalid options before any request, listing every problem', async () => {
    await expect(
      requestTokens({ issuer: 'http://idp.example.com', clientId: '', params: { a: 1 as never } }),
    ).rejects.toMatchObject({
      code: 'ZT_OPTIONS_INVALID',
      problems: [
        'issuer must use https (http is accepted on loopback only)',
        'clientId must be a non-empty string',
        'params.a must be a string',
      ],
    });
  });
});
