import { randomBytes, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIPv6 } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  errors,
  Provider,
  type Configuration,
  type KoaContextWithOIDC,
  type ResourceServerInfo,
} from 'oidc-provider';

import {
  DEMO_ACR,
  DEMO_API_SCOPES,
  DEMO_AUDIENCE,
  DEMO_CLIENT_SCOPES,
  DEMO_CLI_CLIENT_ID,
  DEMO_CLI_REDIRECT_URI,
  DEMO_MFA_ACR,
  DEMO_LEDGER_AUDIENCE,
  DEMO_LEDGER_SCOPES,
  DEMO_MTLS_SERVICE_CLIENTS,
  DEMO_SERVICE_CLIENTS,
} from './constants.js';
import {
  AccountLocks,
  attachSecurityEventHooks,
  createAdminHandler,
  createSsfHandler,
  type ContinuousAccessContext,
} from './continuous-access.js';
import { createInteractionHandler, escapeHtml, type InteractionLogger } from './interactions.js';
import { loadOrCreateSecrets, loadOrCreateTransmitterKey, type ProviderSecrets } from './keys.js';
import { createMemoryStore, type MemoryStore } from './memory-adapter.js';
import {
  SecurityEventTransmitter,
  type RetryOptions,
  type SecurityEventsOptions,
  type SecurityEventsStatus,
} from './security-events.js';
import { loadOrCreatePki, spiffeIdOf, type DemoPki } from './pki.js';
import { findDemoUser } from './users.js';

export {
  DEMO_ACR,
  DEMO_ADMIN_SECRET,
  DEMO_API_SCOPES,
  DEMO_AUDIENCE,
  DEMO_CLIENT_SCOPES,
  DEMO_CLI_CLIENT_ID,
  DEMO_CLI_REDIRECT_URI,
  DEMO_MFA_ACR,
  DEMO_LEDGER_AUDIENCE,
  DEMO_LEDGER_SCOPES,
  DEMO_MTLS_SERVICE_CLIENTS,
  DEMO_SERVICE_CLIENTS,
  DEMO_TOTP_SECRETS,
} from './constants.js';

export type {
  RetryOptions,
  SecurityEventsOptions,
  SecurityEventsStatus,
} from './security-events.js';

/** How the IdP tells APIs that a session or an account's access ended (issue 19). */
export interface ContinuousAccessOptions {
  /**
   * Registered as `demo-cli`'s `backchannel_logout_uri` (with
   * `backchannel_logout_session_required`): a logout at the IdP sends a logout token there, and
   * the client's access tokens carry `sid`.
   */
  backchannelLogoutUri?: string;
  /** Where CAEP Security Event Tokens are pushed (RFC 8935); none are sent without it. */
  securityEvents?: SecurityEventsOptions;
  /** Back-off of the SET outbox (tests shorten it). */
  retry?: RetryOptions;
}

/** Options of {@link startIdentityProvider}. */
export interface IdentityProviderOptions {
  /** TCP port to listen on; `0` picks a free port. @default 4000 */
  port?: number;
  /**
   * TCP port of the mutual-TLS listener (HTTPS, client certificates from the development CA),
   * advertised as `mtls_endpoint_aliases.token_endpoint`; `0` picks a free port.
   * @default 4443, or 0 when `port` is 0
   */
  mtlsPort?: number;
  /** Interface to listen on; also the host of the issuer URL. @default '127.0.0.1' */
  host?: string;
  /**
   * Directory holding the persistent signing keys (`jwks.json`), cookie keys
   * (`cookie-keys.json`), the development PKI (`pki/`) and, with `securityEvents`, the SET
   * signing key (`ssf-jwks.json`) and outbox (`ssf-outbox.jsonl`); created if missing.
   * @default `<repo>/apps/identity/.data`
   */
  dataDir?: string;
  /** Lifetime of access tokens (users and client credentials), in seconds. @default 900 */
  accessTokenTtlSeconds?: number;
  /** Suppresses the IdP's informational logs (errors are still printed). @default false */
  quiet?: boolean;
  /** Back-channel logout and Shared Signals (CAEP) events. @default none: neither is sent */
  continuousAccess?: ContinuousAccessOptions;
  /**
   * Password of the admin interface (`POST /admin/accounts/:sub/...`, HTTP Basic `admin`).
   * @default none: the admin routes answer 404
   */
  adminSecret?: string;
}

/** A started identity provider. */
export interface RunningIdentityProvider {
  /** Issuer identifier, the URL the IdP listens on, without trailing slash (`http://127.0.0.1:4000`). */
  readonly issuer: string;
  /** The TCP port actually listened on (useful with `port: 0`). */
  readonly port: number;
  /** The token endpoint on the mutual-TLS listener (`https://127.0.0.1:<mtlsPort>/token`). */
  readonly mtlsTokenEndpoint: string;
  /** The development CA and the workloads' certificates. */
  readonly pki: DemoPki;
  /** The outbox of Security Event Tokens waiting for the receiver. */
  readonly securityEvents: SecurityEventsStatus;
  /**
   * Stops listening, closes every open connection and stops the SET retries (pending SETs stay
   * in `dataDir` for the next start). Safe to call more than once.
   */
  close(): Promise<void>;
}

/** Default data directory: `apps/identity/.data`, whether running from `src` or from `dist`. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../.data', import.meta.url));

const DEFAULT_PORT = 4000;
const DEFAULT_MTLS_PORT = 4443;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_ACCESS_TOKEN_TTL = 15 * 60;

/** Lifetimes, in seconds, of the other artifacts. */
const TTL = {
  AuthorizationCode: 60,
  IdToken: 15 * 60,
  Interaction: 10 * 60,
  Session: 8 * 60 * 60,
  RefreshToken: 24 * 60 * 60,
  // A grant must outlive the refresh tokens issued from it.
  Grant: 24 * 60 * 60,
} as const;

/**
 * Starts the demo OpenID Connect provider (oidc-provider 8) on its own Node HTTP server.
 *
 * The server listens first, so that with `port: 0` the issuer can be built from the port
 * actually bound; the provider is then created with that issuer. The demo's own login and
 * consent pages are served by the same server under `/interaction/:uid`.
 *
 * - Access tokens are `at+jwt` JWTs signed with ES256 for {@link DEMO_AUDIENCE}, for users
 *   (authorization code + PKCE, client `demo-cli`) and services (client credentials).
 * - Signing and cookie keys are generated on first start and reused from `dataDir`.
 * - Users: `alice` (accountant), `bob` (customer), `carol` (admin); password = user name.
 * - Continuous access (`continuousAccess`): Back-Channel Logout for `demo-cli` (its access
 *   tokens then carry `sid`), and CAEP events pushed to an API on logout, grant revocation
 *   (refresh-token reuse, RFC 7009) and admin actions (`adminSecret`: `/admin/accounts/...`).
 *
 * @param options - see {@link IdentityProviderOptions}
 * @returns the running IdP; call `close()` to stop it
 * @throws Error on invalid options, unreadable keys, or when the port cannot be bound
 */
export async function startIdentityProvider(
  options: IdentityProviderOptions = {},
): Promise<RunningIdentityProvider> {
  const port = options.port ?? DEFAULT_PORT;
  // A caller that asks for a free port (tests) gets a free mutual-TLS port too.
  const mtlsPort = options.mtlsPort ?? (port === 0 ? 0 : DEFAULT_MTLS_PORT);
  const host = options.host ?? DEFAULT_HOST;
  const accessTokenTtl = options.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL;
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);

  for (const value of [port, mtlsPort]) {
    if (!Number.isInteger(value) || value < 0 || value > 65_535) {
      throw new Error(`Invalid port ${String(value)}: expected an integer from 0 to 65535`);
    }
  }
  if (!host) throw new Error('Invalid host: expected a host name or IP address');
  if (!Number.isInteger(accessTokenTtl) || accessTokenTtl <= 0) {
    throw new Error(
      `Invalid accessTokenTtlSeconds ${String(accessTokenTtl)}: expected a positive integer`,
    );
  }

  const continuousAccess = validateContinuousAccess(options.continuousAccess ?? {});
  if (options.adminSecret !== undefined && options.adminSecret.length < 8) {
    throw new Error('Invalid adminSecret: expected at least 8 characters');
  }

  const logger = createLogger(options.quiet ?? false);
  const secrets = await loadOrCreateSecrets(dataDir);
  logger.info(
    `${secrets.generated ? 'generated new' : 'reusing'} signing keys (${secrets.jwks.keys
      .map((key) => `${key.alg} ${key.kid}`)
      .join(', ')}) in ${dataDir}`,
  );

  const pki = await loadOrCreatePki(dataDir);
  logger.info(`${pki.generated ? 'generated a new' : 'reusing the'} development PKI in ${pki.dir}`);

  let handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) => {
    res.statusCode = 503;
    res.setHeader('Retry-After', '1');
    res.end();
  };
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      logger.error('request failed', error);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else {
        res.destroy();
      }
    });
  });

  // Internal callers authenticate with a certificate of the development CA. The handshake
  // accepts any certificate so that oidc-provider answers `invalid_client` itself when one is
  // missing or not from the CA (certificateAuthorized below).
  const mtlsServer = createHttpsServer(
    {
      key: pki.workloads.identity.key,
      cert: pki.workloads.identity.cert,
      ca: pki.caCert,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => server.emit('request', req, res),
  );

  const hostInUrl = isIPv6(host) ? `[${host}]` : host;
  const boundPort = await listen(server, port, host);
  let boundMtlsPort: number;
  try {
    boundMtlsPort = await listen(mtlsServer, mtlsPort, host);
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  const issuer = `http://${hostInUrl}:${boundPort}`;
  const mtlsTokenEndpoint = `https://${hostInUrl}:${boundMtlsPort}/token`;

  const store = createMemoryStore();
  const accounts = new AccountLocks();
  let provider: Provider;
  let transmitter: SecurityEventTransmitter;
  try {
    const { securityEvents, retry } = continuousAccess;
    const transmitterKey = securityEvents ? await loadOrCreateTransmitterKey(dataDir) : undefined;
    if (transmitterKey) {
      logger.info(
        `${transmitterKey.generated ? 'generated a new' : 'reusing the'} SET signing key (RS256 ${transmitterKey.publicJwk.kid})`,
      );
    }
    transmitter = await SecurityEventTransmitter.start({
      issuer,
      key: transmitterKey,
      target: securityEvents,
      dataDir,
      ...(retry ? { retry } : {}),
      logger,
    });
    provider = new Provider(
      issuer,
      buildConfiguration({
        secrets,
        accessTokenTtl,
        mtlsTokenEndpoint,
        store,
        accounts,
        backchannelLogoutUri: continuousAccess.backchannelLogoutUri,
      }),
    );
  } catch (error) {
    await Promise.all([closeServer(server), closeServer(mtlsServer)]);
    throw error;
  }
  attachEventLogging(provider, logger);
  const context: ContinuousAccessContext = { provider, store, transmitter, accounts, logger };
  attachSecurityEventHooks(context);

  const interactions = createInteractionHandler(provider, logger, {
    isDisabled: (accountId) => accounts.isDisabled(accountId),
  });
  const admin = createAdminHandler(context, options.adminSecret);
  const ssf = continuousAccess.securityEvents ? createSsfHandler(issuer, transmitter) : undefined;
  const providerCallback = provider.callback();
  handler = async (req, res) => {
    if (await interactions(req, res)) return;
    if (await admin(req, res)) return;
    if (ssf?.(req, res)) return;
    await providerCallback(req, res);
  };

  let closing: Promise<void> | undefined;
  return {
    issuer,
    port: boundPort,
    mtlsTokenEndpoint,
    pki,
    securityEvents: {
      pending: () => transmitter.pending(),
      drained: () => transmitter.drained(),
    },
    close: () => {
      closing ??= Promise.all([
        closeServer(server),
        closeServer(mtlsServer),
        transmitter.close(),
      ]).then(() => undefined);
      return closing;
    },
  };
}

/** Checks the URLs and delays of the continuous-access options, naming each problem. */
function validateContinuousAccess(o: ContinuousAccessOptions): ContinuousAccessOptions {
  const problems: string[] = [];
  const checkUrl = (name: string, value: string): void => {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hash !== '') {
      problems.push(`${name} must be an absolute http(s) URL without fragment`);
    }
  };
  if (o.backchannelLogoutUri !== undefined) {
    checkUrl('continuousAccess.backchannelLogoutUri', o.backchannelLogoutUri);
  }
  if (o.securityEvents !== undefined) {
    checkUrl('continuousAccess.securityEvents.endpoint', o.securityEvents.endpoint);
    if (!o.securityEvents.audience) {
      problems.push('continuousAccess.securityEvents.audience must not be empty');
    }
    if (!o.securityEvents.authorization || /[\r\n]/.test(o.securityEvents.authorization)) {
      problems.push('continuousAccess.securityEvents.authorization must be one non-empty line');
    }
  }
  for (const name of ['initialDelayMs', 'maxDelayMs'] as const) {
    const value = o.retry?.[name];
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
      problems.push(`continuousAccess.retry.${name} must be a positive integer`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`Invalid continuousAccess options: ${problems.join('; ')}`);
  }
  return o;
}

interface ConfigurationInput {
  secrets: ProviderSecrets;
  accessTokenTtl: number;
  mtlsTokenEndpoint: string;
  store: MemoryStore;
  accounts: AccountLocks;
  backchannelLogoutUri: string | undefined;
}

/** The client certificate of a request on the mutual-TLS listener, PEM. */
function peerCertificate(ctx: KoaContextWithOIDC): string | undefined {
  const socket = ctx.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const raw = socket.getPeerCertificate().raw;
  if (!raw || raw.length === 0) return undefined;
  return new X509Certificate(raw).toString();
}

function buildConfiguration({
  secrets,
  accessTokenTtl,
  mtlsTokenEndpoint,
  store,
  accounts,
  backchannelLogoutUri,
}: ConfigurationInput): Configuration {
  // One audience per resource server (RFC 8707): a token for the ledger is no token for the API.
  const resourceServers = new Map<string, ResourceServerInfo>(
    [
      [DEMO_AUDIENCE, DEMO_API_SCOPES],
      [DEMO_LEDGER_AUDIENCE, DEMO_LEDGER_SCOPES],
    ].map(([audience = '', scope = '']) => [
      audience,
      {
        scope,
        audience,
        accessTokenTTL: accessTokenTtl,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      },
    ]),
  );

  return {
    adapter: store.adapter,
    jwks: { keys: secrets.jwks.keys.map((key) => ({ ...key })) },
    cookies: {
      keys: [...secrets.cookieKeys],
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },

    clients: [
      {
        client_id: DEMO_CLI_CLIENT_ID,
        client_name: 'Demo CLI',
        // A command-line app: a public client using a loopback redirect (RFC 8252).
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [DEMO_CLI_REDIRECT_URI],
        // Back-Channel Logout 1.0: a logout token (with sid) to the API, and sid in the tokens.
        ...(backchannelLogoutUri === undefined
          ? {}
          : {
              backchannel_logout_uri: backchannelLogoutUri,
              backchannel_logout_session_required: true,
            }),
      },
      ...Object.entries(DEMO_SERVICE_CLIENTS).map(([clientId, secret]) => ({
        client_id: clientId,
        client_secret: secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      })),
      ...DEMO_MTLS_SERVICE_CLIENTS.map((clientId) => ({
        client_id: clientId,
        // RFC 8705 §2.1: PKI client authentication, the certificate's SPIFFE ID must match.
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_san_uri: spiffeIdOf(clientId),
        // RFC 8705 §3: access tokens carry cnf.x5t#S256, the certificate's thumbprint.
        tls_client_certificate_bound_access_tokens: true,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      })),
    ],
    clientAuthMethods: ['client_secret_basic', 'tls_client_auth', 'none'],
    discovery: { mtls_endpoint_aliases: { token_endpoint: mtlsTokenEndpoint } },
    responseTypes: ['code'],
    pkce: { methods: ['S256'], required: () => true },
    scopes: ['openid', 'offline_access'],
    acrValues: [DEMO_ACR, DEMO_MFA_ACR],
    clockTolerance: 5,
    // Tokens are for the CLI and services, never for browser scripts on other origins.
    clientBasedCORS: () => false,

    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // RFC 9449: a client that sends a DPoP proof gets a DPoP-bound token (cnf.jkt). Server
      // nonces are required, so clients must handle `use_dpop_nonce`.
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        getCertificate: peerCertificate,
        // The listener trusts only the development CA: Node verified the chain.
        certificateAuthorized: (ctx) => (ctx.socket as Partial<TLSSocket>).authorized === true,
        certificateSubjectMatches: (ctx, property, expected) => {
          const pem = peerCertificate(ctx);
          if (property !== 'tls_client_auth_san_uri' || pem === undefined) return false;
          const names = (new X509Certificate(pem).subjectAltName ?? '').split(', ');
          return names.includes(`URI:${expected}`);
        },
      },
      userinfo: { enabled: true },
      // Logout tokens for clients with a backchannel_logout_uri; RFC 7009 revocation.
      backchannelLogout: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => {
          if (oneOf) return oneOf.includes(DEMO_AUDIENCE) ? DEMO_AUDIENCE : oneOf;
          return DEMO_AUDIENCE;
        },
        useGrantedResource: async () => true,
        // Called for every authorization and token request naming (or defaulting to) a
        // resource: where each client's registered scopes are enforced (see grantedScopes).
        getResourceServerInfo: async (ctx, resourceIndicator, client) => {
          const info = resourceServers.get(resourceIndicator);
          if (!info) {
            throw new errors.InvalidTarget(
              `unknown resource, the demo serves ${[...resourceServers.keys()].join(' and ')}`,
            );
          }
          return { ...info, scope: grantedScopes(ctx, client.clientId, info.scope) };
        },
      },
    },

    findAccount: async (_ctx, sub) => {
      const user = findDemoUser(sub);
      // A disabled account is no account: refresh and userinfo fail (invalid_grant).
      if (!user || accounts.isDisabled(user.username)) return undefined;
      return { accountId: user.username, claims: () => ({ sub: user.username }) };
    },

    extraTokenClaims: async (ctx, token) => {
      if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
      const user = findDemoUser(token.accountId);
      if (!user) return undefined;
      // How the End-User authenticated is recorded on the code, then on each refresh token.
      const authn = ctx?.oidc.entities.RefreshToken ?? ctx?.oidc.entities.AuthorizationCode;
      return {
        roles: [...user.roles],
        // The session (only for a client that includes it): matched by back-channel logout.
        ...(token.sid === undefined ? {} : { sid: token.sid }),
        auth_time: authn?.authTime,
        acr: authn?.acr,
        amr: authn?.amr,
      };
    },

    // Every refresh token works once. Presenting a consumed one again (a stolen copy, or the
    // legitimate client after the thief) revokes the whole grant: every refresh and access
    // token of the session, including the one it was rotated to (oidc-provider's reuse check).
    rotateRefreshToken: true,

    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },

    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      AuthorizationCode: TTL.AuthorizationCode,
      IdToken: TTL.IdToken,
      Interaction: TTL.Interaction,
      Session: TTL.Session,
      RefreshToken: TTL.RefreshToken,
      Grant: TTL.Grant,
    },

    renderError,
  };
}

/**
 * The scopes of a resource server that `clientId` may be granted, after checking the request.
 *
 * oidc-provider checks a client's registered `scope` only against its own OpenID Connect
 * scopes (`openid`, `offline_access`), and grants any resource scope to any client that asks.
 * Here each client gets only its {@link DEMO_CLIENT_SCOPES}: a request naming any other scope
 * fails with `invalid_scope` (RFC 6749 §4.1.2.1, §5.2) rather than being quietly trimmed, and
 * the resource server's scope list handed back to oidc-provider holds only the registered ones,
 * so no token can carry another (the authorization code and refresh grants filter by it).
 *
 * A client-credentials request without `scope` is given the registered scopes (RFC 6749 §3.3:
 * the server may apply a pre-defined default): a service's token always says what it may do.
 */
function grantedScopes(ctx: KoaContextWithOIDC, clientId: string, resourceScopes: string): string {
  const registered = new Set((DEMO_CLIENT_SCOPES[clientId] ?? '').split(' ').filter(Boolean));
  const params = ctx.oidc.params as { scope?: unknown; grant_type?: unknown } | undefined;
  const requested = typeof params?.scope === 'string' ? params.scope.split(' ') : [];
  for (const scope of requested.filter(Boolean)) {
    if (!registered.has(scope)) {
      throw new errors.InvalidScope(`scope ${scope} is not registered for this client`, scope);
    }
  }
  const granted = resourceScopes.split(' ').filter((scope) => registered.has(scope));
  if (
    params !== undefined &&
    params.scope === undefined &&
    params.grant_type === 'client_credentials'
  ) {
    // Read by the client-credentials grant right after this hook: the registered default.
    params.scope = granted.join(' ') || undefined;
  }
  return granted.join(' ');
}

function createLogger(quiet: boolean): InteractionLogger {
  return {
    info: quiet ? () => undefined : (message) => console.info(`[identity] ${message}`),
    warn: quiet ? () => undefined : (message) => console.warn(`[identity] ${message}`),
    error: (message, error) =>
      console.error(`[identity] ${message}:`, error instanceof Error ? error.message : error),
  };
}

function attachEventLogging(provider: Provider, logger: InteractionLogger): void {
  const describe = (error: unknown): string => {
    if (error instanceof errors.OIDCProviderError) {
      return `${error.error}${error.error_description ? ` (${error.error_description})` : ''}`;
    }
    return error instanceof Error ? error.message : String(error);
  };
  provider.on('server_error', (_ctx: KoaContextWithOIDC, error: unknown) => {
    logger.error('server error', error);
  });
  provider.on('grant.error', (_ctx: KoaContextWithOIDC, error: unknown) => {
    logger.warn(`token request refused: ${describe(error)}`);
  });
  provider.on('authorization.error', (_ctx: KoaContextWithOIDC, error: unknown) => {
    logger.warn(`authorization request refused: ${describe(error)}`);
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC) => {
    const clientId = ctx.oidc.client?.clientId ?? 'unknown client';
    logger.warn(`revoked a grant of ${clientId} and every token issued from it`);
  });
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const clientId = ctx.oidc.client?.clientId ?? 'unknown client';
    const grantType = ctx.oidc.params?.grant_type;
    logger.info(`issued tokens to ${clientId} (${String(grantType)})`);
  });
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('identity provider server has no TCP address'));
        return;
      }
      resolvePort(address.port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose, reject) => {
    if (!server.listening) {
      server.closeAllConnections();
      resolveClose();
      return;
    }
    server.close((error) => (error ? reject(error) : resolveClose()));
    // Keep-alive connections (e.g. from fetch) would otherwise hold close() open.
    server.closeAllConnections();
  });
}

// ---------------------------------------------------------------------------------------------
// Pages rendered by oidc-provider itself (errors, logout)

const PAGE_STYLE =
  'body{font:16px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1f23}' +
  'main{max-width:26rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:8px}' +
  'button{padding:.5rem 1rem;font:inherit;margin-right:.5rem}';

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Demo identity provider</title>
<style>${PAGE_STYLE}</style></head>
<body><main>${body}</main></body>
</html>
`;
}

async function renderError(
  ctx: KoaContextWithOIDC,
  out: { error: string; error_description?: string },
): Promise<void> {
  ctx.type = 'html';
  ctx.body = page(
    'Error',
    `<h1>Something went wrong</h1><p><strong>${escapeHtml(out.error)}</strong>${
      out.error_description ? `: ${escapeHtml(out.error_description)}` : ''
    }</p>`,
  );
}

async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  // `form` is markup generated by oidc-provider (a hidden form with its CSRF token).
  ctx.body = page(
    'Sign out',
    `<h1>Sign out of ${escapeHtml(ctx.host)}?</h1>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.body = page('Signed out', '<h1>Signed out</h1><p>You have been signed out.</p>');
}
