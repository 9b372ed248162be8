import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { CookieJar, loginWithPassword, logout, refreshTokens } from './client.js';
import { DEMO_CLI_CLIENT_ID } from './constants.js';
import {
  startIdentityProvider,
  type IdentityProviderOptions,
  type RunningIdentityProvider,
} from './identity-provider.js';

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const SESSION_REVOKED = `${CAEP}session-revoked`;
const CREDENTIAL_CHANGE = `${CAEP}credential-change`;
const RECEIVER_AUDIENCE = 'https://invoices.demo.local/ssf';
const RECEIVER_AUTHORIZATION = 'Bearer receiver-token-for-tests';
const ADMIN_SECRET = 'admin-secret-for-tests';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver for logout tokens (`/backchannel-logout`) and SETs (`/events`), recording both. */
class Receiver {
  readonly received: Received[] = [];
  /** Statuses to answer the next pushes with, in order; then 202. */
  readonly statuses: (number | 'slow')[] = [];
  #server: Server | undefined;
  port = 0;

  async listen(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '';
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString() });
        const status = path === '/events' ? (this.statuses.shift() ?? 202) : 200;
        // A "slow" answer comes after the transmitter stopped waiting for it.
        const answer = () => {
          res.statusCode = status === 'slow' ? 202 : status;
          res.end(res.statusCode === 400 ? '{"err":"invalid_audience"}' : undefined);
        };
        if (status === 'slow') setTimeout(answer, 3000);
        else answer();
      });
    });
    await new Promise<void>((resolveListen) => server.listen(port, '127.0.0.1', resolveListen));
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.#server = server;
    return this;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolveClose) => server.close(resolveClose));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The pushed SETs, in arrival order (retries included). */
  sets(): string[] {
    return this.received.filter((r) => r.path === '/events').map((r) => r.body);
  }

  logoutTokens(): string[] {
    return this.received
      .filter((r) => r.path === '/backchannel-logout')
      .map((r) => new URLSearchParams(r.body).get('logout_token') ?? '');
  }
}

function options(receiver: Receiver, dataDir: string): IdentityProviderOptions {
  return {
    port: 0,
    mtlsPort: 0,
    dataDir,
    quiet: true,
    adminSecret: ADMIN_SECRET,
    continuousAccess: {
      backchannelLogoutUri: `${receiver.url}/backchannel-logout`,
      securityEvents: {
        endpoint: `${receiver.url}/events`,
        authorization: RECEIVER_AUTHORIZATION,
        audience: RECEIVER_AUDIENCE,
      },
      retry: { initialDelayMs: 20, maxDelayMs: 100 },
    },
  };
}

/** Verifies a SET as a receiver would, and returns its claims and its one event. */
async function verifySet(
  set: string,
  issuer: string,
): Promise<{ claims: JWTPayload; type: string; event: Record<string, unknown> }> {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/ssf/jwks`));
  const { payload, protectedHeader } = await jwtVerify(set, jwks, {
    issuer,
    audience: RECEIVER_AUDIENCE,
    typ: 'secevent+jwt',
    algorithms: ['RS256'],
    requiredClaims: ['iat', 'jti'],
  });
  expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'secevent+jwt' });
  expect(payload).not.toHaveProperty('sub');
  expect(payload).not.toHaveProperty('exp');
  const events = Object.entries(payload.events as Record<string, Record<string, unknown>>);
  expect(events).toHaveLength(1);
  const [type = '', event = {}] = events[0] ?? [];
  expect(event).toMatchObject({
    event_timestamp: expect.any(Number),
    initiating_entity: expect.any(String),
    reason_admin: { en: expect.any(String) },
  });
  return { claims: payload, type, event };
}

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function admin(
  issuer: string,
  path: string,
  authorization: string | null = basic('admin', ADMIN_SECRET),
  method = 'POST',
): Promise<Response> {
  return fetch(`${issuer}/admin/accounts/${path}`, {
    method,
    headers: authorization === null ? {} : { authorization },
  });
}

describe('demo identity provider: continuous access (issue 19 §4)', () => {
  let dataDir: string;
  let receiver: Receiver;
  let idp: RunningIdentityProvider;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'demo-idp-caep-'));
    receiver = await new Receiver().listen();
    idp = await startIdentityProvider(options(receiver, dataDir));
  });

  afterEach(async () => {
    await idp.securityEvents.drained();
    receiver.received.length = 0;
    receiver.statuses.length = 0;
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await idp?.close();
    await receiver?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('advertises back-channel logout, revocation and its SSF transmitter with its own key', async () => {
    const discovery = (await (
      await fetch(`${idp.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      revocation_endpoint: `${idp.issuer}/token/revocation`,
    });

    const ssf = (await (
      await fetch(`${idp.issuer}/.well-known/ssf-configuration`)
    ).json()) as Record<string, unknown>;
    expect(ssf).toEqual({
      spec_version: '1_0',
      issuer: idp.issuer,
      jwks_uri: `${idp.issuer}/ssf/jwks`,
      delivery_methods_supported: ['urn:ietf:rfc:8935'],
      events_supported: [SESSION_REVOKED, CREDENTIAL_CHANGE],
    });

    const { keys } = (await (await fetch(`${idp.issuer}/ssf/jwks`)).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({
      kty: 'RSA',
      alg: 'RS256',
      use: 'sig',
      kid: expect.any(String),
    });
    expect(keys[0]).not.toHaveProperty('d');
    expect(Buffer.from(String(keys[0]?.n), 'base64url')).toHaveLength(256);
    const op = (await (await fetch(String(discovery.jwks_uri))).json()) as {
      keys: { kid: string }[];
    };
    expect(op.keys.map((key) => key.kid)).not.toContain(keys[0]?.kid);
  });

  it('logout: a logout token with the access token sid, and one session-revoked SET', async () => {
    const cookies = new CookieJar(idp.issuer);
    const tokens = await loginWithPassword({
      issuer: idp.issuer,
      username: 'bob',
      password: 'bob',
      cookies,
    });
    const sid = decodeJwt(tokens.access_token).sid;
    expect(sid).toEqual(expect.any(String));

    await logout({ issuer: idp.issuer, cookies, idTokenHint: tokens.id_token });
    // The demo ends the offline_access grant too: the refresh token stops working.
    await expect(
      refreshTokens({ issuer: idp.issuer, refreshToken: tokens.refresh_token ?? '' }),
    ).rejects.toThrow(/invalid_grant/);
    await idp.securityEvents.drained();

    const [logoutToken, ...moreTokens] = receiver.logoutTokens();
    expect(moreTokens).toEqual([]);
    const opKeys = createRemoteJWKSet(new URL(`${idp.issuer}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(logoutToken ?? '', opKeys, {
      issuer: idp.issuer,
      audience: DEMO_CLI_CLIENT_ID,
      typ: 'logout+jwt',
    });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload).toMatchObject({
      sub: 'bob',
      sid,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    });

    const sets = receiver.sets();
    expect(sets).toHaveLength(1);
    const { claims, type, event } = await verifySet(sets[0] ?? '', idp.issuer);
    expect(type).toBe(SESSION_REVOKED);
    expect(event.initiating_entity).toBe('user');
    expect(claims.sub_id).toEqual({
      format: 'complex',
      user: { format: 'iss_sub', iss: idp.issuer, sub: 'bob' },
      session: { format: 'opaque', id: sid },
    });
    const push = receiver.received.find((r) => r.path === '/events');
    expect(push?.headers).toMatchObject({
      'content-type': 'application/secevent+jwt',
      accept: 'application/json',
      authorization: RECEIVER_AUTHORIZATION,
    });
  });

  it('logout of one client without offline_access: its grant revoked, still one SET', async () => {
    const cookies = new CookieJar(idp.issuer);
    const tokens = await loginWithPassword({
      issuer: idp.issuer,
      username: 'bob',
      password: 'bob',
      scope: 'openid invoices:read',
      cookies,
    });
    expect(tokens.refresh_token).toBeUndefined();
    const sid = decodeJwt(tokens.access_token).sid;
    await logout({
      issuer: idp.issuer,
      cookies,
      idTokenHint: tokens.id_token ?? '',
      everywhere: false,
    });
    await idp.securityEvents.drained();

    expect(receiver.logoutTokens().map((token) => decodeJwt(token).sid)).toEqual([sid]);
    // backchannel.success, then grant.revoked (twice in 8.8.1) for the same session: one SET.
    const sets = receiver.sets();
    expect(sets).toHaveLength(1);
    const { claims } = await verifySet(sets[0] ?? '', idp.issuer);
    expect(claims.sub_id).toMatchObject({ format: 'complex', session: { id: sid } });
  });

  it('refresh-token reuse: session-revoked for the sid of that grant', async () => {
    const login = await loginWithPassword({ issuer: idp.issuer, username: 'bob', password: 'bob' });
    const sid = decodeJwt(login.access_token).sid;
    const stolen = login.refresh_token ?? '';
    const rotated = await refreshTokens({ issuer: idp.issuer, refreshToken: stolen });
    expect(decodeJwt(rotated.access_token).sid).toBe(sid);
    await expect(refreshTokens({ issuer: idp.issuer, refreshToken: stolen })).rejects.toThrow(
      /invalid_grant/,
    );
    await idp.securityEvents.drained();

    const sets = receiver.sets();
    expect(sets).toHaveLength(1);
    const { claims, type, event } = await verifySet(sets[0] ?? '', idp.issuer);
    expect(type).toBe(SESSION_REVOKED);
    expect(event.initiating_entity).toBe('policy');
    expect(claims.sub_id).toMatchObject({ format: 'complex', session: { id: sid } });
    expect(receiver.logoutTokens()).toEqual([]);
  });

  it('RFC 7009 revocation of a refresh token: session-revoked for its sid', async () => {
    const login = await loginWithPassword({ issuer: idp.issuer, username: 'bob', password: 'bob' });
    const response = await fetch(`${idp.issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: login.refresh_token ?? '',
        token_type_hint: 'refresh_token',
        client_id: DEMO_CLI_CLIENT_ID,
      }).toString(),
    });
    expect(response.status).toBe(200);
    await expect(
      refreshTokens({ issuer: idp.issuer, refreshToken: login.refresh_token ?? '' }),
    ).rejects.toThrow(/invalid_grant/);
    await idp.securityEvents.drained();

    const sets = receiver.sets();
    expect(sets).toHaveLength(1);
    const { claims, event } = await verifySet(sets[0] ?? '', idp.issuer);
    expect(event.initiating_entity).toBe('user');
    expect(claims.sub_id).toMatchObject({ session: { id: decodeJwt(login.access_token).sid } });
  });

  it('admin disable: refresh and login refused, session-revoked for the user; enable restores', async () => {
    const login = await loginWithPassword({ issuer: idp.issuer, username: 'bob', password: 'bob' });

    expect((await admin(idp.issuer, 'bob/disable')).status).toBe(204);
    await expect(
      refreshTokens({ issuer: idp.issuer, refreshToken: login.refresh_token ?? '' }),
    ).rejects.toThrow(/invalid_grant/);
    await expect(
      loginWithPassword({ issuer: idp.issuer, username: 'bob', password: 'bob' }),
    ).rejects.toThrow(/Login failed for user "bob": This account is disabled/);
    await idp.securityEvents.drained();

    const sets = receiver.sets();
    expect(sets).toHaveLength(1);
    const { claims, type, event } = await verifySet(sets[0] ?? '', idp.issuer);
    expect(type).toBe(SESSION_REVOKED);
    expect(claims.sub_id).toEqual({ format: 'iss_sub', iss: idp.issuer, sub: 'bob' });
    expect(event.initiating_entity).toBe('admin');

    expect((await admin(idp.issuer, 'bob/enable')).status).toBe(204);
    await expect(
      loginWithPassword({ issuer: idp.issuer, username: 'bob', password: 'bob' }),
    ).resolves.toHaveProperty('access_token');
  });

  it('admin credential-change: grants revoked and a credential-change SET', async () => {
    const login = await loginWithPassword({
      issuer: idp.issuer,
      username: 'alice',
      password: 'alice',
    });
    expect((await admin(idp.issuer, 'alice/credential-change')).status).toBe(204);
    await expect(
      refreshTokens({ issuer: idp.issuer, refreshToken: login.refresh_token ?? '' }),
    ).rejects.toThrow(/invalid_grant/);
    await idp.securityEvents.drained();

    const sets = receiver.sets();
    expect(sets).toHaveLength(1);
    const { claims, type, event } = await verifySet(sets[0] ?? '', idp.issuer);
    expect(type).toBe(CREDENTIAL_CHANGE);
    expect(event).toMatchObject({
      credential_type: 'password',
      change_type: 'update',
      initiating_entity: 'admin',
    });
    expect(claims.sub_id).toEqual({ format: 'iss_sub', iss: idp.issuer, sub: 'alice' });
  });

  it('admin revoke: every grant of the account revoked, session-revoked for the user', async () => {
    const first = await loginWithPassword({
      issuer: idp.issuer,
      username: 'carol',
      password: 'carol',
    });
    const second = await loginWithPassword({
      issuer: idp.issuer,
      username: 'carol',
      password: 'carol',
    });
    expect((await admin(idp.issuer, 'carol/revoke')).status).toBe(204);
    for (const login of [first, second]) {
      await expect(
        refreshTokens({ issuer: idp.issuer, refreshToken: login.refresh_token ?? '' }),
      ).rejects.toThrow(/invalid_grant/);
    }
    await idp.securityEvents.drained();
    const sets = receiver.sets();
    expect(sets).toHaveLength(1);
    const { claims, type } = await verifySet(sets[0] ?? '', idp.issuer);
    expect(type).toBe(SESSION_REVOKED);
    expect(claims.sub_id).toEqual({ format: 'iss_sub', iss: idp.issuer, sub: 'carol' });
  });

  it('refuses admin requests without the right credentials, and unknown accounts', async () => {
    for (const authorization of [
      null,
      basic('admin', 'wrong-secret'),
      basic('carol', ADMIN_SECRET),
      `Bearer ${ADMIN_SECRET}`,
      'Basic !!!',
    ]) {
      const response = await admin(idp.issuer, 'bob/disable', authorization);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    }
    expect((await admin(idp.issuer, 'mallory/disable')).status).toBe(404);
    expect((await admin(idp.issuer, 'bob/delete')).status).toBe(404);
    expect((await admin(idp.issuer, 'bob/disable', null, 'GET')).status).toBe(401);
    expect(
      (await admin(idp.issuer, 'bob/disable', basic('admin', ADMIN_SECRET), 'GET')).status,
    ).toBe(405);
    // Nothing happened to bob.
    await expect(
      loginWithPassword({ issuer: idp.issuer, username: 'bob', password: 'bob' }),
    ).resolves.toHaveProperty('access_token');
    expect(receiver.sets()).toEqual([]);
  });

  it('retries a receiver that answers 503 twice: the SET is delivered once', async () => {
    receiver.statuses.push(503, 503);
    expect((await admin(idp.issuer, 'alice/revoke')).status).toBe(204);
    expect(idp.securityEvents.pending()).toBe(1);
    await idp.securityEvents.drained();
    expect(idp.securityEvents.pending()).toBe(0);

    const sets = receiver.sets();
    expect(sets).toHaveLength(3);
    expect(new Set(sets).size).toBe(1); // the same SET (same jti) each time
    await verifySet(sets[0] ?? '', idp.issuer);
    expect(await readFile(join(dataDir, 'ssf-outbox.jsonl'), 'utf8')).toBe('');
  });

  it('retries a receiver too slow to answer within the timeout: the same SET again', async () => {
    receiver.statuses.push('slow');
    expect((await admin(idp.issuer, 'alice/revoke')).status).toBe(204);
    await idp.securityEvents.drained();
    const sets = receiver.sets();
    expect(sets).toHaveLength(2);
    expect(new Set(sets).size).toBe(1); // the receiver dedupes by jti
  });

  it('drops a SET the receiver refuses with a 4xx, and logs it', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    receiver.statuses.push(400);
    expect((await admin(idp.issuer, 'alice/revoke')).status).toBe(204);
    await idp.securityEvents.drained();
    expect(receiver.sets()).toHaveLength(1);
    expect(errors).toHaveBeenCalledWith(
      expect.stringMatching(/dropped SET .* for alice/),
      expect.stringMatching(/HTTP 400: \{"err":"invalid_audience"\}/),
    );
  });

  it('answers 404 on the admin routes without an admin secret', async () => {
    const plainDir = await mkdtemp(join(tmpdir(), 'demo-idp-plain-'));
    const plain = await startIdentityProvider({
      port: 0,
      mtlsPort: 0,
      dataDir: plainDir,
      quiet: true,
    });
    try {
      expect((await admin(plain.issuer, 'bob/disable')).status).toBe(404);
      expect((await fetch(`${plain.issuer}/.well-known/ssf-configuration`)).status).toBe(404);
      // Without a backchannel_logout_uri, access tokens carry no sid.
      const tokens = await loginWithPassword({
        issuer: plain.issuer,
        username: 'bob',
        password: 'bob',
      });
      expect(decodeJwt(tokens.access_token)).not.toHaveProperty('sid');
      expect(plain.securityEvents.pending()).toBe(0);
    } finally {
      await plain.close();
      await rm(plainDir, { recursive: true, force: true });
    }
  });
});

describe('demo identity provider: SETs without back-channel logout', () => {
  it('a logout sends session-revoked for the user: the tokens carry no sid to name', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'demo-idp-nobcl-'));
    const receiver = await new Receiver().listen();
    const base = options(receiver, dataDir);
    const idp = await startIdentityProvider({
      ...base,
      continuousAccess: { ...base.continuousAccess, backchannelLogoutUri: undefined },
    });
    try {
      const cookies = new CookieJar(idp.issuer);
      const tokens = await loginWithPassword({
        issuer: idp.issuer,
        username: 'bob',
        password: 'bob',
        cookies,
      });
      expect(decodeJwt(tokens.access_token)).not.toHaveProperty('sid');
      await logout({ issuer: idp.issuer, cookies });
      await expect(
        refreshTokens({ issuer: idp.issuer, refreshToken: tokens.refresh_token ?? '' }),
      ).rejects.toThrow(/invalid_grant/);
      await idp.securityEvents.drained();

      expect(receiver.logoutTokens()).toEqual([]);
      const sets = receiver.sets();
      expect(sets).toHaveLength(1);
      const { claims, type } = await verifySet(sets[0] ?? '', idp.issuer);
      expect(type).toBe(SESSION_REVOKED);
      expect(claims.sub_id).toEqual({ format: 'iss_sub', iss: idp.issuer, sub: 'bob' });
    } finally {
      await idp.close();
      await receiver.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('demo identity provider: the SET outbox survives a restart', () => {
  it('delivers a SET queued while the receiver was down after the IdP restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'demo-idp-outbox-'));
    const receiver = await new Receiver().listen();
    const port = receiver.port;
    await receiver.close(); // the receiver is down
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    let idp = await startIdentityProvider({ ...options(receiver, dataDir), quiet: false });
    try {
      expect((await admin(idp.issuer, 'bob/revoke')).status).toBe(204);
      await vi.waitFor(() =>
        expect(warnings).toHaveBeenCalledWith(expect.stringMatching(/ECONNREFUSED/)),
      );
      expect(idp.securityEvents.pending()).toBe(1);
      const firstIssuer = idp.issuer;
      await idp.close();
      const outbox = await readFile(join(dataDir, 'ssf-outbox.jsonl'), 'utf8');
      expect(outbox.trim().split('\n')).toHaveLength(1);

      await receiver.listen(port);
      idp = await startIdentityProvider(options(receiver, dataDir));
      await idp.securityEvents.drained();
      const sets = receiver.sets();
      expect(sets).toHaveLength(1);
      // Signed before the restart, by the first instance's issuer, with the persisted key.
      const { claims } = await verifySetAt(sets[0] ?? '', idp.issuer, firstIssuer);
      expect(claims.sub_id).toEqual({ format: 'iss_sub', iss: firstIssuer, sub: 'bob' });
      expect(await readFile(join(dataDir, 'ssf-outbox.jsonl'), 'utf8')).toBe('');
    } finally {
      vi.restoreAllMocks();
      await idp.close();
      await receiver.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** Verifies a SET of `issuer` with the keys published by another instance (same dataDir). */
async function verifySetAt(
  set: string,
  keysFrom: string,
  issuer: string,
): Promise<{ claims: JWTPayload }> {
  const { payload } = await jwtVerify(set, createRemoteJWKSet(new URL(`${keysFrom}/ssf/jwks`)), {
    issuer,
    audience: RECEIVER_AUDIENCE,
    typ: 'secevent+jwt',
  });
  return { claims: payload };
}
