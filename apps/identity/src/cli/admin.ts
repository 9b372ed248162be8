/**
 * `npm run -s demo:admin -- <action> <user>`: an administrator's action at the demo IdP.
 *
 * - `disable`: bob can no longer log in or refresh; his grants and sessions are revoked and a
 *   CAEP `session-revoked` event is pushed to the API;
 * - `enable`: undoes `disable` (nothing is pushed);
 * - `credential-change`: grants and sessions revoked, a CAEP `credential-change` pushed;
 * - `revoke`: grants and sessions revoked, a CAEP `session-revoked` pushed.
 *
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';

import { DEFAULT_ISSUER, DEMO_ADMIN_SECRET } from '../constants.js';

const ACTIONS = ['disable', 'enable', 'credential-change', 'revoke'];

const USAGE = `Usage: npm run -s demo:admin -- <${ACTIONS.join('|')}> <user>

  disable            the user can no longer log in or refresh; every grant and session
                     revoked; CAEP session-revoked pushed to the API
  enable             the user can log in again
  credential-change  every grant and session revoked; CAEP credential-change pushed
  revoke             every grant and session revoked; CAEP session-revoked pushed

Environment: IDP_URL (default ${DEFAULT_ISSUER}), IDP_ADMIN_SECRET (default ${DEMO_ADMIN_SECRET})`;

async function main(argv: string[]): Promise<number> {
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h', default: false } },
    });
    if (parsed.values.help) {
      console.error(USAGE);
      return 0;
    }
    positionals = parsed.positionals;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 1;
  }
  const [action, user, ...extra] = positionals;
  if (action === undefined || !ACTIONS.includes(action) || !user || extra.length > 0) {
    console.error(USAGE);
    return 1;
  }

  const issuer = (process.env.IDP_URL?.trim() || DEFAULT_ISSUER).replace(/\/+$/, '');
  const secret = process.env.IDP_ADMIN_SECRET ?? DEMO_ADMIN_SECRET;
  const url = `${issuer}/admin/accounts/${encodeURIComponent(user)}/${action}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const code = cause instanceof Error && 'code' in cause ? String(cause.code) : String(cause);
    console.error(`demo:admin: cannot reach the identity provider at ${issuer} (${code})`);
    return 1;
  }
  const text = await response.text().catch(() => '');
  switch (response.status) {
    case 204:
      console.error(`demo:admin: ${action} ${user}: done`);
      return 0;
    case 401:
      console.error('demo:admin: refused (401): set IDP_ADMIN_SECRET to the IdP admin secret');
      return 1;
    case 404:
      console.error(
        `demo:admin: 404 from ${issuer}: no user ${JSON.stringify(user)}, or the admin interface is off`,
      );
      return 1;
    default:
      console.error(`demo:admin: unexpected HTTP ${response.status} ${text.slice(0, 200)}`);
      return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
