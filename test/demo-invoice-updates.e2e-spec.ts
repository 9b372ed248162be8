import { RevocationService } from 'nestjs-zero-trust';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ADAPTERS, call, startDemoApi, type RunningApi } from './support/demo-api.js';
import { startTestIdentityProvider, type TestIdentityProvider } from './support/identity.js';

/*
 * The demo API pushes invoice updates over its WebSocket gateway (`/ws`) to subscribed,
 * authorized clients, with real tokens of the demo IdP: a watch is decided like `GET
 * /invoices/:id`, a browser authenticates by its first message, and a socket is closed when its
 * principal is revoked. On Express and on Fastify.
 */
let idp: TestIdentityProvider;
let tokens: Record<'alice' | 'bob', string>;

beforeAll(async () => {
  idp = await startTestIdentityProvider();
  tokens = { alice: await idp.userToken('alice'), bob: await idp.userToken('bob') };
});
afterAll(async () => {
  await idp?.stop();
});

/** A socket to the demo's gateway, and the frames it received; `next()` waits for the next one. */
async function connect(api: RunningApi, token?: string, query = '') {
  const socket = new WebSocket(api.url.replace(/^http/, 'ws') + '/ws' + query, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  const frames: unknown[] = [];
  const waiting: ((frame: unknown) => void)[] = [];
  socket.on('message', (raw: Buffer) => {
    const frame: unknown = JSON.parse(raw.toString());
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  const closing = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code: number, reason: Buffer) => resolve({ code, reason: String(reason) })),
  );
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return {
    send: (event: string, data: unknown) => socket.send(JSON.stringify({ event, data })),
    next: () =>
      frames.length > 0
        ? Promise.resolve(frames.shift())
        : Promise.race([
            new Promise<unknown>((resolve) => waiting.push(resolve)),
            closing.then(({ code, reason }) => ({ closed: code, reason })),
          ]),
    closing,
    close: () => socket.close(),
  };
}

describe.each(ADAPTERS)('demo invoice updates over WebSocket (%s)', (adapter) => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startDemoApi({ issuer: idp.issuer, adapter });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('lets bob watch his invoice and pushes its changes to him and to alice; refuses him another customer’s', async () => {
    const bob = await connect(api, tokens.bob);
    bob.send('invoices.watch', { id: 'inv-1' });
    expect(await bob.next()).toMatchObject({
      event: 'invoices.watching',
      data: { id: 'inv-1', customerId: 'bob' },
    });
    bob.send('invoices.watch', { id: 'inv-2' });
    const refused = await bob.next();
    expect(refused).toEqual({
      event: 'exception',
      data: {
        status: 'error',
        statusCode: 403,
        code: 'ZT_ACCESS_DENIED',
        message: 'Access denied',
      },
    });
    // A browser: no header, its token in the first message.
    const alice = await connect(api);
    alice.send('authenticate', { token: tokens.alice });
    expect(await alice.next()).toMatchObject({ event: 'authenticated' });
    alice.send('invoices.watch', { id: 'inv-1' });
    expect(await alice.next()).toMatchObject({ event: 'invoices.watching' });

    // alice (accountant, owner of the draft) changes it over REST: both watchers get it.
    const patched = await call(api, 'PATCH', '/invoices/inv-1', {
      token: tokens.alice,
      body: { amount: 125_000 },
    });
    expect(patched.status).toBe(200);
    for (const socket of [bob, alice])
      expect(await socket.next()).toMatchObject({
        event: 'invoice.updated',
        data: { id: 'inv-1', amount: 125_000 },
      });
    bob.close();
    alice.close();
  });

  it('refuses a token in the URL and a socket that never authenticates', async () => {
    const inUrl = await connect(api, undefined, `?access_token=${tokens.bob}`);
    expect(await inUrl.next()).toMatchObject({
      event: 'exception',
      data: { code: 'ZT_TOKEN_METHOD_UNSUPPORTED' },
    });
    expect((await inUrl.closing).code).toBe(4401);
    const silent = await connect(api);
    silent.send('invoices.watch', { id: 'inv-1' });
    expect(await silent.next()).toMatchObject({ data: { code: 'ZT_TOKEN_MISSING' } });
    expect(await silent.closing).toEqual({ code: 4401, reason: 'ZT_TOKEN_MISSING' });
  });

  it("closes bob's watching socket when bob is revoked, without a message from him", async () => {
    const bob = await connect(api, tokens.bob);
    bob.send('invoices.watch', { id: 'inv-3' });
    expect(await bob.next()).toMatchObject({ event: 'invoices.watching' });
    await api.app.get(RevocationService).revokeSubject('bob');
    expect(await bob.next()).toMatchObject({
      event: 'exception',
      data: { statusCode: 401, code: 'ZT_TOKEN_REVOKED' },
    });
    expect(await bob.closing).toEqual({ code: 4401, reason: 'ZT_TOKEN_REVOKED' });
  });
});
