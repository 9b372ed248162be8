import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchJson } from './fetch-json.js';

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

const bounds = { timeoutMs: 300, maxBytes: 1024 };

describe('fetchJson', () => {
  it('returns a JSON object answered with 200', async () => {
    const url = await listen(
      createServer((_req, res) => res.writeHead(200).end(JSON.stringify({ keys: [] }))),
    );
    await expect(fetchJson(url, bounds)).resolves.toEqual({ keys: [] });
  });

  it('refuses other statuses, redirects, non-JSON and non-object bodies', async () => {
    const answers: [number, Record<string, string>, string][] = [
      [503, {}, '{}'],
      [302, { location: 'http://127.0.0.1:9/' }, ''],
      [200, {}, 'not json'],
      [200, {}, '[1,2]'],
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
        res.writeHead(200);
        res.on('close', () => (state.closed = true));
        const chunk = Buffer.alloc(512, 32);
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
});
