/**
 * Public constants of the demo identity provider.
 *
 * Kept in a module of their own, free of `oidc-provider`, so that HTTP clients (the CLI, e2e
 * tests) can import them without loading the provider.
 */

/** The audience (`aud`) of every access token the demo IdP issues: the demo invoices API. */
export const DEMO_AUDIENCE = 'https://invoices.demo.local';

/** The scopes the demo invoices API ({@link DEMO_AUDIENCE}) understands. */
export const DEMO_API_SCOPES = 'invoices:read invoices:write payments:write reports:read';

/** Client id of the public command-line client (authorization code + PKCE, refresh tokens). */
export const DEMO_CLI_CLIENT_ID = 'demo-cli';

/**
 * Redirect URI registered for {@link DEMO_CLI_CLIENT_ID}. Nothing listens there: the CLI stops
 * at the redirect and reads the `code` from its `Location` header.
 */
export const DEMO_CLI_REDIRECT_URI = 'http://127.0.0.1/cli-callback';

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
});

/**
 * The demo's service clients that authenticate with their certificate (RFC 8705
 * `tls_client_auth`, SAN URI `spiffe://demo.local/<client>`) at the IdP's mutual-TLS token
 * endpoint, and get certificate-bound access tokens (`cnf.x5t#S256`).
 */
export const DEMO_MTLS_SERVICE_CLIENTS: readonly string[] = Object.freeze(['billing-worker']);

/** The issuer the CLI talks to when `IDP_URL` is not set. */
export const DEFAULT_ISSUER = 'http://127.0.0.1:4000';
