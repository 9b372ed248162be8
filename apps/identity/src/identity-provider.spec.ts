import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JWTVerifyGetKey,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  clientCredentials,
  clientCredentialsWithCertificate,
  loginWithPassword,
  refreshTokens,
} from './client.js';
import {
  DEMO_ACR,
  DEMO_LEDGER_AUDIENCE,
  DEMO_AUDIENCE,
  DEMO_CLI_CLIENT_ID,
  DEMO_CLI_REDIRECT_URI,
  startIdentityProvider,
  type RunningIdentityProvider,
} from './identity-provider.js';
import { loadOrCreatePki } from './pki.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function objectOf(value: unknown): Json {
  if (!isObject(value)) throw new Error('expected a JSON object');
  return value;
}

function stringOf(value: unknown): string {
  if (typeof value !== 'string') throw new Error('expected a string');
  return value;
}

function objectsOf(value: unknown): Json[] {
  if (!Array.isArray(value)) throw new Error('expected an array');
  return value.map(objectOf);
}

async function getJson(url: string): Promise<Json> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return objectOf(await response.json());
}

const discover = (issuer: string): Promise<Json> =>
  getJson(`${issuer}/.well-known/openid-configuration`);

/** Outcome of a promise expected to reject: its error. */
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => new Error('expected a rejection'),
    (error: unknown) => error,
  );

async function kidsOf(issuer: string): Promise<string[]> {
  const keys = objectsOf((await getJson(stringOf((await discover(issuer)).jwks_uri))).keys);
  for (const key of keys) expect(key).not.toHaveProperty('d');
  return keys.map((key) => stringOf(key.kid)).sort((a, b) => a.localeCompare(b));
}

/** Starts an authorization request by hand and returns the interaction URL and its cookies. */
async function beginAuthorization(
  issuer: string,
  extra: Record<string, string> = {},
): Promise<{ interactionUrl: URL; cookie: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: DEMO_CLI_CLIENT_ID,
    response_type: 'code',
    redirect_uri: DEMO_CLI_REDIRECT_URI,
    scope: 'openid',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status).toBe(303);
  const location = response.headers.get('location') ?? '';
  expect(location).toMatch(/\/interaction\/[\w-]+$/);
  const cookie = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  return { interactionUrl: new URL(location, issuer), cookie };
}

describe('demo identity provider', () => {
  let dataDir: string;
  let idp: RunningIdentityProvider;
  let discovery: Json;
  let jwks: JWTVerifyGetKey;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'demo-idp-'));
    idp = await startIdentityProvider({ port: 0, mtlsPort: 0, dataDir, quiet: true });
    discovery = await discover(idp.issuer);
    jwks = createRemoteJWKSet(new URL(stringOf(discovery.jwks_uri)));
  });

  afterAll(async () => {
    await idp?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('listens on its issuer URL and advertises a code + PKCE S256 only provider', () => {
    expect(idp.issuer).toBe(`http://127.0.0.1:${idp.port}`);
    expect(discovery.issuer).toBe(idp.issuer);
    expect(discovery.response_types_supported).toEqual(['code']);
    expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
    expect(discovery.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']),
    );
  });

  it('issues alice a verifiable at+jwt through the authorization code flow', async () => {
    const tokens = await loginWithPassword({
      issuer: idp.issuer,
      username: 'alice',
      password: 'alice',
    });
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.expires_in).toBe(900);
    expect(tokens.id_token).toEqual(expect.any(String));
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const header = decodeProtectedHeader(tokens.access_token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });

    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      iss: idp.issuer,
      aud: DEMO_AUDIENCE,
      sub: 'alice',
      roles: ['accountant'],
      client_id: DEMO_CLI_CLIENT_ID,
      acr: DEMO_ACR,
      amr: ['pwd'],
      jti: expect.any(String),
      auth_time: expect.any(Number),
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(900);

    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: idp.issuer,
      audience: DEMO_AUDIENCE,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(payload.sub).toBe('alice');
    expect(protectedHeader.kid).toBe(header.kid);

    const idToken = await jwtVerify(tokens.id_token ?? '', jwks, {
      issuer: idp.issuer,
      audience: DEMO_CLI_CLIENT_ID,
    });
    expect(idToken.payload.sub).toBe('alice');
  });

  it.each([
    ['bob', ['customer']],
    ['carol', ['admin']],
  ])('puts %s roles %j in the access token', async (username, roles) => {
    const tokens = await loginWithPassword({ issuer: idp.issuer, username, password: username });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: username, roles });
  });

  it('grants requested API scopes to users', async () => {
    const tokens = await loginWithPassword({
      issuer: idp.issuer,
      username: 'alice',
      password: 'alice',
      scope: 'openid offline_access invoices:read',
    });
    expect(decodeJwt(tokens.access_token).scope).toBe('invoices:read');
  });

  it('refreshes with rotation: a new refresh token, and the old one stops working', async () => {
    const first = await loginWithPassword({
      issuer: idp.issuer,
      username: 'alice',
      password: 'alice',
    });
    const refreshToken = first.refresh_token ?? '';

    const second = await refreshTokens({ issuer: idp.issuer, refreshToken });
    expect(second.refresh_token).toEqual(expect.any(String));
    expect(second.refresh_token).not.toBe(refreshToken);
    const { payload } = await jwtVerify(second.access_token, jwks, {
      issuer: idp.issuer,
      audience: DEMO_AUDIENCE,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({ sub: 'alice', roles: ['accountant'], amr: ['pwd'] });
    expect(payload.jti).not.toBe(decodeJwt(first.access_token).jti);

    await expect(refreshTokens({ issuer: idp.issuer, refreshToken })).rejects.toThrow(
      /invalid_grant/,
    );
  });

  it('revokes the whole grant when a consumed refresh token is presented again', async () => {
    const login = await loginWithPassword({ issuer: idp.issuer, username: 'bob', password: 'bob' });
    const stolen = login.refresh_token ?? '';
    const rotated = await refreshTokens({ issuer: idp.issuer, refreshToken: stolen });
    const next = rotated.refresh_token ?? '';
    expect(next).not.toBe(stolen);

    // The thief (or the victim) replays the consumed token: refused, and the family dies.
    await expect(refreshTokens({ issuer: idp.issuer, refreshToken: stolen })).rejects.toThrow(
      /invalid_grant/,
    );
    await expect(refreshTokens({ issuer: idp.issuer, refreshToken: next })).rejects.toThrow(
      /invalid_grant/,
    );
  });

  it('binds billing-worker tokens to its certificate (tls_client_auth, cnf.x5t#S256)', async () => {
    const aliases = objectOf(discovery.mtls_endpoint_aliases);
    expect(stringOf(aliases.token_endpoint)).toBe(idp.mtlsTokenEndpoint);
    expect(idp.mtlsTokenEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/token$/);

    const own = idp.pki.workloads['billing-worker'];
    const tokens = await clientCredentialsWithCertificate({
      issuer: idp.issuer,
      clientId: 'billing-worker',
      tls: { key: own.key, cert: own.cert, ca: idp.pki.caCert },
    });
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: idp.issuer,
      audience: DEMO_AUDIENCE,
      typ: 'at+jwt',
    });
    const thumbprint = createHash('sha256')
      .update(new X509Certificate(own.cert).raw)
      .digest('base64url');
    expect(payload).toMatchObject({
      sub: 'billing-worker',
      client_id: 'billing-worker',
      cnf: { 'x5t#S256': thumbprint },
    });
  });

  it('refuses billing-worker without its own certificate from the development CA', async () => {
    const other = idp.pki.workloads['reporting-service'];
    const foreignDir = await mkdtemp(join(tmpdir(), 'zt-foreign-ca-'));
    try {
      const foreign = (await loadOrCreatePki(foreignDir)).workloads['billing-worker'];
      for (const tls of [
        { key: other.key, cert: other.cert }, // another workload's SPIFFE ID
        { key: foreign.key, cert: foreign.cert }, // right name, another CA
      ]) {
        await expect(
          clientCredentialsWithCertificate({
            issuer: idp.issuer,
            clientId: 'billing-worker',
            tls: { ...tls, ca: idp.pki.caCert },
          }),
        ).rejects.toThrow(/invalid_client \(HTTP 401 from /);
      }
    } finally {
      await rm(foreignDir, { recursive: true, force: true });
    }
    // No secret works for a certificate-authenticated client.
    await expect(
      clientCredentials({ issuer: idp.issuer, clientId: 'billing-worker', clientSecret: 'x' }),
    ).rejects.toThrow(/invalid_client/);
  });

  it("issues tokens per resource: one audience each, with that resource's scopes", async () => {
    const ledger = await clientCredentials({
      issuer: idp.issuer,
      clientId: 'reporting-service',
      clientSecret: 'reporting-service-secret',
      resource: DEMO_LEDGER_AUDIENCE,
      scope: 'ledger:read reports:read',
    });
    const { payload } = await jwtVerify(ledger.access_token, jwks, {
      issuer: idp.issuer,
      audience: DEMO_LEDGER_AUDIENCE,
      typ: 'at+jwt',
    });
    expect(payload.aud).toBe(DEMO_LEDGER_AUDIENCE);
    expect(payload.scope).toBe('ledger:read');
  });

  it('rejects a wrong password without revealing it', async () => {
    const error = await rejection(
      loginWithPassword({ issuer: idp.issuer, username: 'alice', password: 'not-the-password' }),
    );
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/Login failed for user "alice": Invalid user name or password/);
    expect(String(error)).not.toContain('not-the-password');
    await expect(
      loginWithPassword({ issuer: idp.issuer, username: 'mallory', password: 'mallory' }),
    ).rejects.toThrow(/Login failed/);
  });

  it('issues reporting-service a client-credentials at+jwt for the demo API', async () => {
    const tokens = await clientCredentials({
      issuer: idp.issuer,
      clientId: 'reporting-service',
      clientSecret: 'reporting-service-secret',
    });
    expect(tokens.expires_in).toBe(900);
    expect(tokens.refresh_token).toBeUndefined();
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({
      alg: 'ES256',
      typ: 'at+jwt',
    });
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: idp.issuer,
      audience: DEMO_AUDIENCE,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({
      aud: DEMO_AUDIENCE,
      sub: 'reporting-service',
      client_id: 'reporting-service',
    });
    expect(payload).not.toHaveProperty('roles');
    expect(payload).not.toHaveProperty('cnf');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);

    const scoped = await clientCredentials({
      issuer: idp.issuer,
      clientId: 'reporting-service',
      clientSecret: 'reporting-service-secret',
      resource: DEMO_AUDIENCE,
      scope: 'reports:read',
    });
    expect(decodeJwt(scoped.access_token)).toMatchObject({
      aud: DEMO_AUDIENCE,
      sub: 'reporting-service',
      scope: 'reports:read',
    });
  });

  it('rejects a wrong client secret', async () => {
    const error = await rejection(
      clientCredentials({
        issuer: idp.issuer,
        clientId: 'reporting-service',
        clientSecret: 'wrong-secret',
      }),
    );
    expect(String(error)).toMatch(/invalid_client \(HTTP 401 from /);
    expect(String(error)).not.toContain('wrong-secret');
  });

  it('refuses a resource other than the demo API and the ledger', async () => {
    await expect(
      clientCredentials({
        issuer: idp.issuer,
        clientId: 'reporting-service',
        clientSecret: 'reporting-service-secret',
        resource: 'https://elsewhere.example',
      }),
    ).rejects.toThrow(/invalid_target/);
    await expect(
      loginWithPassword({
        issuer: idp.issuer,
        username: 'alice',
        password: 'alice',
        resource: 'https://elsewhere.example',
      }),
    ).rejects.toThrow(/invalid_target/);
  });

  it('requires PKCE', async () => {
    const url = new URL(stringOf(discovery.authorization_endpoint));
    url.search = new URLSearchParams({
      client_id: DEMO_CLI_CLIENT_ID,
      response_type: 'code',
      redirect_uri: DEMO_CLI_REDIRECT_URI,
      scope: 'openid',
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location') ?? '', idp.issuer);
    expect(location.origin + location.pathname).toBe(DEMO_CLI_REDIRECT_URI);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('answers bad interaction input with 4xx pages, never 500', async () => {
    const unknown = await fetch(`${idp.issuer}/interaction/does-not-exist`);
    expect(unknown.status).toBe(400);

    const { interactionUrl, cookie } = await beginAuthorization(idp.issuer, {
      login_hint: '"><script>alert(1)</script>',
    });
    const page = await fetch(interactionUrl, { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');

    const loginUrl = `${interactionUrl.href}/login`;
    const post = (body: string, type = 'application/x-www-form-urlencoded'): Promise<Response> =>
      fetch(loginUrl, {
        method: 'POST',
        headers: { cookie, 'content-type': type },
        body,
        redirect: 'manual',
      });

    expect((await post('username=alice&password=alice', 'text/plain')).status).toBe(415);
    expect((await post(`username=alice&password=${'x'.repeat(20_000)}`)).status).toBe(413);
    expect((await post('username=alice')).status).toBe(400);
    expect((await post('username=%E0%A4%A&password=%')).status).toBe(401);
    expect((await fetch(loginUrl, { method: 'PUT', headers: { cookie } })).status).toBe(405);
    expect((await fetch(loginUrl, { headers: { cookie } })).status).toBe(405);

    const ok = await post('username=bob&password=bob');
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toMatch(/\/auth\/[\w-]+$/);
  });

  it('reports an unreachable IdP clearly', async () => {
    const port = await new Promise<number>((resolvePort) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolvePort(typeof address === 'object' && address ? address.port : 1));
      });
    });
    await expect(
      loginWithPassword({
        issuer: `http://127.0.0.1:${port}`,
        username: 'alice',
        password: 'alice',
      }),
    ).rejects.toThrow(
      /Cannot reach the identity provider at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
  });

  it('persists its keys in dataDir (0600) and reuses them after a restart', async () => {
    const file = join(dataDir, 'jwks.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'cookie-keys.json'))).mode & 0o777).toBe(0o600);
    const stored = objectsOf(objectOf(JSON.parse(await readFile(file, 'utf8'))).keys);
    expect(stored.map((key) => `${stringOf(key.alg)}/${stringOf(key.use)}`)).toEqual([
      'ES256/sig',
      'RS256/sig',
    ]);
    for (const key of stored) expect(key).toHaveProperty('d');

    const kidsBefore = await kidsOf(idp.issuer);
    const tokens = await clientCredentials({
      issuer: idp.issuer,
      clientId: 'reporting-service',
      clientSecret: 'reporting-service-secret',
    });

    const restarted = await startIdentityProvider({ port: 0, mtlsPort: 0, dataDir, quiet: true });
    try {
      expect(await kidsOf(restarted.issuer)).toEqual(kidsBefore);
      // A token signed before the restart still verifies against the new instance's JWKS.
      const jwksUri = stringOf((await discover(restarted.issuer)).jwks_uri);
      await expect(
        jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(jwksUri)), {
          issuer: idp.issuer,
          audience: DEMO_AUDIENCE,
        }),
      ).resolves.toBeDefined();
    } finally {
      await restarted.close();
    }
  });
});
