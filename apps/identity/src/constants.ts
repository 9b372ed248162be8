/**
 * Public constants of the demo identity provider.
 *
 * Kept in a module of their own, free of `oidc-provider`, so that HTTP clients (the CLI, e2e
 * tests) can import them without loading the provider.
 */

/** The audience (`aud`) of every access token the demo IdP issues: the demo invoices API. */
export const DEMO_AUDIENCE = 'https://invoices.demo.local';

/** The scopes the demo invoices API ({@link DEMO_AUDIENCE}) understands. */
export const DEMO_API_SCOPES =
  'invoices:read invoices:write payments:write payments:events reports:read metrics:read revocations:write';

/** Client id of the public command-line client (authorization code + PKCE, refresh tokens). */
export const DEMO_CLI_CLIENT_ID = 'demo-cli';

/**
 * Redirect URI registered for {@link DEMO_CLI_CLIENT_ID}. Nothing listens there: the CLI stops
 * at the redirect and reads the `code` from its `Location` header.
 */
export const DEMO_CLI_REDIRECT_URI = 'http://127.0.0.1/cli-callback';

/**
 * Path of the IdP's authorization endpoint (oidc-provider's default route): the demo CLI walks
 * this IdP's own login pages, so it needs no discovery to find them.
 */
export const DEMO_AUTHORIZATION_PATH = '/auth';

/** Authentication Context Class Reference (`acr`) of a password login at the demo IdP. */
export const DEMO_ACR = 'urn:demo:acr:password';

/** `acr` of a login with a password and a one-time code (TOTP) at the demo IdP. */
export const DEMO_MFA_ACR = 'urn:demo:acr:mfa';

/**
 * The demo users' TOTP secrets (RFC 6238: SHA-1, 6 digits, 30 s; base32 as authenticator apps
 * take them). Public and demo-only, like the passwords: never do this with real accounts.
 */
export const DEMO_TOTP_SECRETS: Readonly<Record<string, string>> = Object.freeze({
  alice: '2PDKNGKTBVCVESWCC3W52EGL73KEBMJ7',
  bob: 'NJ6ALNY67BLKJE3PXXTAAOC3AAMCKRRB',
  carol: 'Y7C667OOHEEIPMF43AHGAHEVTGM2YD6K',
});

/**
 * A second resource server of the demo (a ledger service that exists only as an audience):
 * tokens for it must be refused by the invoices API.
 */
export const DEMO_LEDGER_AUDIENCE = 'urn:demo:ledger';

/** The scopes of {@link DEMO_LEDGER_AUDIENCE}. */
export const DEMO_LEDGER_SCOPES = 'ledger:read ledger:write';

/**
 * The demo's service clients that authenticate with a secret (client credentials,
 * `client_secret_basic`) and their documented, public, demo-only secrets.
 */
export const DEMO_SERVICE_CLIENTS: Readonly<Record<string, string>> = Object.freeze({
  'reporting-service': 'reporting-service-secret',
  'metrics-scraper': 'metrics-scraper-secret',
  // billing-worker's identity on NATS: a message carries a bearer token, and a certificate-bound
  // one would need the TLS connection it is bound to. This client may only announce payments.
  'billing-worker-events': 'billing-worker-events-secret',
});

/**
 * The demo's service clients that authenticate with their certificate (RFC 8705
 * `tls_client_auth`, SAN URI `spiffe://demo.local/<client>`) at the IdP's mutual-TLS token
 * endpoint, and get certificate-bound access tokens (`cnf.x5t#S256`).
 */
export const DEMO_MTLS_SERVICE_CLIENTS: readonly string[] = Object.freeze(['billing-worker']);

/**
 * The demo IdP's admin password (HTTP Basic `admin:<secret>` on `/admin/accounts/...`) when
 * `IDP_ADMIN_SECRET` is not set. Public and demo-only, like the other demo secrets.
 */
export const DEMO_ADMIN_SECRET = 'demo-admin-secret';

/** The issuer the CLI talks to when `IDP_URL` is not set. */
export const DEFAULT_ISSUER = 'http://127.0.0.1:4000';

/**
 * The scopes registered for each demo client (its RFC 7591 `scope`): the IdP grants a client
 * these and no other. A request naming any other scope, of any resource or none, is refused
 * with `invalid_scope`; a token carries only the registered scopes its resource defines. A
 * service that asks for no scope gets all of its registered scopes for the resource (RFC 6749
 * §3.3's pre-defined default); a user login asks for its own (see `loginWithPassword`).
 *
 * What each may do still depends on the API's policy (a customer logging in with `demo-cli`
 * holds `invoices:write`, yet may create nothing): scopes bound the client, roles the user.
 * `revocations:write` (log a token or a user out) is registered for `demo-cli` only: it is the
 * client admins use, and no service revokes.
 */
export const DEMO_CLIENT_SCOPES: Readonly<Record<string, string>> = Object.freeze({
  [DEMO_CLI_CLIENT_ID]:
    'openid offline_access invoices:read invoices:write reports:read revocations:write',
  'billing-worker': 'invoices:read invoices:write payments:write',
  'reporting-service': 'reports:read ledger:read',
  'metrics-scraper': 'metrics:read',
  'billing-worker-events': 'payments:events',
});
