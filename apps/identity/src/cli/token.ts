/**
 * Prints an access token from the demo identity provider.
 *
 * ```sh
 * TOKEN=$(npm run -s demo:token -- alice)          # user login (password = user name)
 * npm run -s demo:token -- bob --json              # the whole token response
 * npm run -s demo:token -- carol --mfa             # password + one-time code (acr mfa)
 * npm run -s demo:token -- reporting-service       # a service, via client credentials
 * npm run -s demo:token -- billing-worker          # a service with its certificate (mTLS)
 * npm run -s demo:token -- alice --watch           # keep the session alive, print each new token
 * ```
 *
 * The IdP is found at `IDP_URL` (default `http://127.0.0.1:4000`). Only the token goes to
 * stdout; messages go to stderr. Exit code 1 on any failure.
 *
 * @packageDocumentation
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { SessionRefresher } from 'nestjs-zero-trust/client';

import {
  clientCredentials,
  clientCredentialsWithCertificate,
  loginWithPassword,
  type TokenResponse,
} from '../client.js';
import {
  DEFAULT_ISSUER,
  DEMO_CLI_CLIENT_ID,
  DEMO_MFA_ACR,
  DEMO_MTLS_SERVICE_CLIENTS,
  DEMO_SERVICE_CLIENTS,
  DEMO_TOTP_SECRETS,
} from '../constants.js';
import { readDemoPki, type DemoWorkload } from '../pki.js';

const USAGE = `Usage: demo:token <name> [--password <password>] [--mfa] [--scope "<scopes>"]
                  [--resource <uri>] [--json] [--watch]

  <name>      a demo user (alice, bob, carol), logged in with the authorization code flow
              (password = the user name unless --password is given), or a demo service:
              ${Object.keys(DEMO_SERVICE_CLIENTS).join(', ')} (client secret) or
              ${DEMO_MTLS_SERVICE_CLIENTS.join(', ')} (its certificate, mutual TLS)
  --mfa       also enter the user's one-time code (TOTP from the documented demo secret):
              the token then carries acr "${DEMO_MFA_ACR}" and amr ["pwd","otp"]
  --json      print the whole token response instead of only the access token
  --scope     scopes to request (default: all the client's registered scopes)
  --resource  the resource indicator (audience) of the token
  --watch     users only: keep the session alive, refreshing ahead of expiry with the
              rotating refresh token; prints each new access token (Ctrl-C stops)

Environment: IDP_URL (default ${DEFAULT_ISSUER}), IDP_DATA_DIR (where the IdP keeps its
development PKI; default apps/identity/.data)`;

const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../.data', import.meta.url));

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        password: { type: 'string' },
        scope: { type: 'string' },
        resource: { type: 'string' },
        json: { type: 'boolean', default: false },
        mfa: { type: 'boolean', default: false },
        watch: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.error(USAGE);
    return 0;
  }
  const [name, ...extra] = positionals;
  if (!name || extra.length > 0) {
    console.error(USAGE);
    return 1;
  }

  const issuer = process.env.IDP_URL?.trim() || DEFAULT_ISSUER;
  const secret = Object.hasOwn(DEMO_SERVICE_CLIENTS, name) ? DEMO_SERVICE_CLIENTS[name] : undefined;
  const totpSecret = Object.hasOwn(DEMO_TOTP_SECRETS, name) ? DEMO_TOTP_SECRETS[name] : undefined;
  if (values.mfa && totpSecret === undefined) {
    console.error(
      `demo:token: --mfa needs a demo user (${Object.keys(DEMO_TOTP_SECRETS).join(', ')})`,
    );
    return 1;
  }

  const certificateClient = DEMO_MTLS_SERVICE_CLIENTS.includes(name);
  const isUser = secret === undefined && !certificateClient;
  if (values.watch && !isUser) {
    console.error('demo:token: --watch keeps a user session alive; services need no refresh token');
    return 1;
  }
  const request = {
    ...(values.scope === undefined ? {} : { scope: values.scope }),
    ...(values.resource === undefined ? {} : { resource: values.resource }),
  };

  let tokens: TokenResponse;
  try {
    if (certificateClient) {
      const pki = await readDemoPki(process.env.IDP_DATA_DIR?.trim() || DEFAULT_DATA_DIR);
      const own = pki.workloads[name as DemoWorkload];
      tokens = await clientCredentialsWithCertificate({
        issuer,
        clientId: name,
        tls: { key: own.key, cert: own.cert, ca: pki.caCert },
        ...request,
      });
    } else if (secret !== undefined) {
      tokens = await clientCredentials({
        issuer,
        clientId: name,
        clientSecret: secret,
        ...request,
      });
    } else {
      tokens = await loginWithPassword({
        issuer,
        username: name,
        password: values.password ?? name,
        ...(values.mfa ? { totpSecret } : {}),
        ...request,
      });
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`demo:token: ${message}`);
    if (message.startsWith('Cannot reach the identity provider')) {
      console.error('Start it first, e.g. `node apps/identity/dist/main.js`, or set IDP_URL.');
    }
    return 1;
  }

  const print = (response: TokenResponse): void => {
    process.stdout.write(
      values.json ? `${JSON.stringify(response, null, 2)}\n` : `${response.access_token}\n`,
    );
  };
  print(tokens);
  if (!values.watch) return 0;
  return watch(issuer, tokens, print);
}

/**
 * Keeps the session alive with the library's SessionRefresher until Ctrl-C, or until the IdP
 * refuses a refresh (the session was revoked, e.g. after refresh-token reuse).
 */
async function watch(
  issuer: string,
  tokens: TokenResponse,
  print: (response: TokenResponse) => void,
): Promise<number> {
  const { refresh_token: refreshToken } = tokens;
  if (refreshToken === undefined) {
    console.error('demo:token: no refresh token was issued (request the offline_access scope)');
    return 1;
  }
  return new Promise((resolveExit) => {
    const session = new SessionRefresher({
      issuer,
      clientId: DEMO_CLI_CLIENT_ID,
      tokens: { ...tokens, refresh_token: refreshToken },
      onRefresh: (next) => {
        console.error(
          `demo:token: refreshed; the new access token expires in ${next.expires_in} s, the refresh token rotated`,
        );
        print(next);
      },
      onError: (error) => {
        console.error(`demo:token: ${error.message}`);
        if (session.ended) {
          void session.close();
          resolveExit(1);
        }
      },
    });
    console.error(
      `demo:token: keeping the session alive; next refresh at ${new Date(session.refreshAt).toISOString()} (Ctrl-C stops)`,
    );
    session.start();
    // The refresher's timer never keeps the process alive on its own.
    const keepAlive = setInterval(() => undefined, 60_000);
    process.once('SIGINT', () => {
      clearInterval(keepAlive);
      void session.close();
      resolveExit(0);
    });
  });
}

process.exitCode = await main(process.argv.slice(2));
