/**
 * Prints an access token from the demo identity provider.
 *
 * ```sh
 * TOKEN=$(npm run -s demo:token -- alice)          # user login (password = user name)
 * npm run -s demo:token -- bob --json              # the whole token response
 * npm run -s demo:token -- billing-worker          # a service, via client credentials
 * ```
 *
 * The IdP is found at `IDP_URL` (default `http://127.0.0.1:4000`). Only the token goes to
 * stdout; messages go to stderr. Exit code 1 on any failure.
 *
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';

import { clientCredentials, loginWithPassword, type TokenResponse } from '../client.js';
import { DEFAULT_ISSUER, DEMO_SERVICE_CLIENTS } from '../constants.js';

const USAGE = `Usage: demo:token <name> [--password <password>] [--scope "<scopes>"] [--json]

  <name>     a demo user (alice, bob, carol), logged in with the authorization code flow
             (password = the user name unless --password is given), or a demo service
             (${Object.keys(DEMO_SERVICE_CLIENTS).join(', ')}) using client credentials
  --json     print the whole token response instead of only the access token
  --scope    scopes to request (users default to "openid offline_access")

Environment: IDP_URL (default ${DEFAULT_ISSUER})`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        password: { type: 'string' },
        scope: { type: 'string' },
        json: { type: 'boolean', default: false },
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

  let tokens: TokenResponse;
  try {
    tokens =
      secret === undefined
        ? await loginWithPassword({
            issuer,
            username: name,
            password: values.password ?? name,
            ...(values.scope === undefined ? {} : { scope: values.scope }),
          })
        : await clientCredentials({
            issuer,
            clientId: name,
            clientSecret: secret,
            ...(values.scope === undefined ? {} : { scope: values.scope }),
          });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`demo:token: ${message}`);
    if (message.startsWith('Cannot reach the identity provider')) {
      console.error('Start it first, e.g. `node apps/identity/dist/main.js`, or set IDP_URL.');
    }
    return 1;
  }

  process.stdout.write(
    values.json ? `${JSON.stringify(tokens, null, 2)}\n` : `${tokens.access_token}\n`,
  );
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
