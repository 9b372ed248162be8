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

/**
 * The demo's service clients (client credentials, `client_secret_basic`) and their
 * documented, public, demo-only secrets.
 */
export const DEMO_SERVICE_CLIENTS: Readonly<Record<string, string>> = Object.freeze({
  'billing-worker': 'billing-worker-secret',
  'reporting-service': 'reporting-service-secret',
});

/** The issuer the CLI talks to when `IDP_URL` is not set. */
export const DEFAULT_ISSUER = 'http://127.0.0.1:4000';
