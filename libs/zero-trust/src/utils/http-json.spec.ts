import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchJson, requestJson } from './http-json.js';

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/doc`;
}

async function messageOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return (error as Error).message;
  }
}

const bounds = { timeoutMs: 300 };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('fetchJson', () => {
  it('returns a JSON object answered with 200', async () => {
    const url = await listen(
      createServer((_req, res) =>
        res
          .writeHead(200, { 'content-type': 'application/jwk-set+json' })
          .end(JSON.stringify({ keys: [] })),
      ),
    );
    await expect(fetchJson(url, bounds)).resolves.toEqual({ keys: [] });
  });

  it('reads JSON only from a JSON content type', async () => {
    const url = await listen(
      createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('{}')),
    );
    expect(await messageOf(fetchJson(url, bounds))).toContain('did not answer JSON');
  });

  it('refuses other statuses, redirects, non-JSON and non-object bodies', async () => {
    const answers: [number, Record<string, string>, string][] = [
      [503, JSON_TYPE, '{}'],
      [302, { location: 'http://127.0.0.1:9/' }, ''],
      [200, JSON_TYPE, 'not json'],
      [200, JSON_TYPE, '[1,2]'],
    ];
    let i = 0;
    const url = await listen(
      createServer((_req, res) => {
        const [status, headers, body] = answers[i++] as (typeof answers)[number];
        res.writeHead(status, headers).end(body);
      }),
    );
    for (const expected of ['answered 503', 'answered 302', 'did not answer JSON', 'JSON object']) {
      expect(await messageOf(fetchJson(url, bounds))).toContain(expected);
    }
  });

  it('stops reading a body above the cap even without content-length', async () => {
    const state = { closed: false };
    const url = await listen(
      createServer((_req, res) => {
        res.writeHead(200, JSON_TYPE);
        res.on('close', () => (state.closed = true));
        const chunk = Buffer.alloc(64 * 1024, 32);
        const timer = setInterval(() => res.write(chunk), 5);
        res.on('close', () => clearInterval(timer));
      }),
    );
    expect(await messageOf(fetchJson(url, bounds))).toContain('too large');
    for (let i = 0; i < 40 && !state.closed; i += 1) await new Promise((r) => setTimeout(r, 25));
    expect(state.closed).toBe(true);
  });

  it('gives up on a server that accepts and never answers, and closes the connection', async () => {
    const sockets = new Set<Socket>();
    const url = await listen(
      createTcpServer((socket) => {
        sockets.add(socket);
        socket.resume();
        socket.on('close', () => sockets.delete(socket));
      }),
    );
    expect(await messageOf(fetchJson(url, bounds))).toContain('did not answer within 300 ms');
    for (let i = 0; i < 40 && sockets.size > 0; i += 1) await new Promise((r) => setTimeout(r, 25));
    expect(sockets.size).toBe(0);
  });

  it('posts a form, and returns an error answer with its JSON (token requests)', async () => {
    const seen: { method?: string; type?: string; body: string } = { body: '' };
    const url = await listen(
      createServer((req, res) => {
        seen.method = req.method;
        seen.type = req.headers['content-type'];
        req.on('data', (chunk: Buffer) => (seen.body += chunk.toString()));
        req.on('end', () => res.writeHead(400, JSON_TYPE).end('{"error":"invalid_grant"}'));
      }),
    );
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r t' });
    const answer = await requestJson(url, { ...bounds, method: 'POST', form });
    expect(answer).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });
    expect(seen).toEqual({
      method: 'POST',
      type: 'application/x-www-form-urlencoded',
      body: 'grant_type=refresh_token&refresh_token=r+t',
    });
  });
});
