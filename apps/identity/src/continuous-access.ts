/**
 * Continuous access evaluation at the demo IdP (issue 19 §4): which provider events and admin
 * actions become CAEP events, the admin interface, and the transmitter's discovery documents.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Client, KoaContextWithOIDC, Provider } from 'oidc-provider';

import type { InteractionLogger } from './interactions.js';
import type { MemoryStore } from './memory-adapter.js';
import {
  PUSH_DELIVERY_METHOD,
  type CaepEvent,
  type InitiatingEntity,
  type SecurityEventTransmitter,
} from './security-events.js';
import { findDemoUser } from './users.js';

/** The accounts an administrator disabled (in memory, like sessions and grants). */
export class AccountLocks {
  readonly #disabled = new Set<string>();

  isDisabled(accountId: string): boolean {
    return this.#disabled.has(accountId);
  }

  disable(accountId: string): void {
    this.#disabled.add(accountId);
  }

  enable(accountId: string): void {
    this.#disabled.delete(accountId);
  }
}

/** What the event hooks and the admin routes work with. */
export interface ContinuousAccessContext {
  readonly provider: Provider;
  readonly store: MemoryStore;
  readonly transmitter: SecurityEventTransmitter;
  readonly accounts: AccountLocks;
  readonly logger: InteractionLogger;
}

/**
 * Turns provider events into CAEP `session-revoked` events:
 *
 * - RP-initiated logout (`POST /session/end/confirm`): one per client session ended, from
 *   `backchannel.success` / `backchannel.error` (oidc-provider sends the logout tokens itself)
 *   and from `end_session.success` for clients without a `backchannel_logout_uri`;
 * - `grant.revoked` (logout, refresh-token or code reuse, RFC 7009 revocation).
 *
 * The subject is the session (`sid` as in the client's access tokens) when the client's tokens
 * carry one, else the user. One request sends at most one event per subject (a logout revokes
 * the session's grants too, and 8.8.1 emits `grant.revoked` twice on one path).
 */
export function attachSecurityEventHooks(c: ContinuousAccessContext): void {
  const { provider, store, transmitter, logger } = c;
  const sent = new WeakMap<object, Set<string>>();
  const txns = new WeakMap<object, string>();
  const txnOf = (ctx: object): string => {
    let txn = txns.get(ctx);
    if (txn === undefined) {
      txn = randomBytes(12).toString('base64url');
      txns.set(ctx, txn);
    }
    return txn;
  };

  const sessionRevoked = (
    ctx: KoaContextWithOIDC,
    accountId: string,
    sid: string | undefined,
    initiatingEntity: InitiatingEntity,
    reason: string,
  ): void => {
    const key = `${accountId}\u0000${sid ?? ''}`;
    const seen = sent.get(ctx) ?? new Set<string>();
    sent.set(ctx, seen);
    if (seen.has(key)) return;
    seen.add(key);
    void transmitter.emit({
      type: 'session-revoked',
      accountId,
      ...(sid === undefined ? {} : { sid }),
      initiatingEntity,
      reason,
      txn: txnOf(ctx),
    });
  };

  const LOGOUT = 'the user signed out at the identity provider (RP-initiated logout)';
  // A client with a backchannel_logout_uri: oidc-provider sends its logout token, then this.
  const onBackchannel = (ctx: KoaContextWithOIDC, client: Client, accountId: string, sid: string) =>
    sessionRevoked(ctx, accountId, client.includeSid() ? sid : undefined, 'user', LOGOUT);

  provider.on(
    'backchannel.success',
    (ctx: KoaContextWithOIDC, client: Client, accountId: string, sid: string) => {
      logger.info(`sent a logout token to ${client.clientId} for ${accountId}`);
      onBackchannel(ctx, client, accountId, sid);
    },
  );
  provider.on(
    'backchannel.error',
    (ctx: KoaContextWithOIDC, error: unknown, client: Client, accountId: string, sid: string) => {
      const message = error instanceof Error ? error.message : String(error);
      logger.warn(`back-channel logout of ${client.clientId} failed (not retried): ${message}`);
      onBackchannel(ctx, client, accountId, sid);
    },
  );
  // The clients without one: their tokens carry no sid, so the subject is the user.
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc.session;
    const accountId = session?.accountId;
    if (session === undefined || accountId === undefined) return;
    if (session.destroyed === true) {
      // "Sign me out" ends the session's offline_access grants too (oidc-provider keeps them):
      // the demo's policy, so that a logout also stops the refresh token.
      for (const { grantId, persistsLogout } of Object.values(session.authorizations ?? {})) {
        if (grantId === undefined || persistsLogout !== true) continue;
        revokeGrant(provider, grantId).then(
          () => logger.info(`logout: revoked the offline_access grant of ${accountId}`),
          (error: unknown) => logger.error('could not revoke a grant at logout', error),
        );
      }
    }
    const clientIds =
      session.destroyed === true
        ? Object.keys(session.authorizations ?? {}) // logout=yes: every client of the session
        : [ctx.oidc.entities.Client?.clientId]; // only the client that asked
    for (const clientId of clientIds) {
      if (clientId === undefined) continue;
      provider.Client.find(clientId).then(
        (client) => {
          if (client && !client.backchannelLogoutUri) {
            sessionRevoked(ctx, accountId, undefined, 'user', LOGOUT);
          }
        },
        (error: unknown) => logger.error('could not send the logout event', error),
      );
    }
  });

  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    const record = store.grant(grantId);
    const token = ctx.oidc.entities.RefreshToken ?? ctx.oidc.entities.AuthorizationCode;
    const accountId = token?.accountId ?? record?.accountId;
    if (accountId === undefined) return;
    const sid = token?.sid ?? record?.sid;
    const [initiatingEntity, reason] = grantRevocationCause(ctx);
    sessionRevoked(ctx, accountId, sid, initiatingEntity, reason);
  });
}

function grantRevocationCause(ctx: KoaContextWithOIDC): [InitiatingEntity, string] {
  switch (ctx.oidc.route) {
    case 'token':
      return ctx.oidc.entities.RefreshToken
        ? ['policy', 'a used refresh token was presented again: the grant and its tokens revoked']
        : ['policy', 'an authorization code was used twice: the grant and its tokens revoked'];
    case 'revocation':
      return ['user', 'the client revoked its token (RFC 7009): the grant and its tokens revoked'];
    case 'end_session_confirm':
      return ['user', 'the user signed out at the identity provider (RP-initiated logout)'];
    default:
      return ['system', 'the grant and its tokens were revoked'];
  }
}

/** The admin actions, `POST /admin/accounts/:sub/<action>`. */
export const ADMIN_ACTIONS = ['disable', 'enable', 'credential-change', 'revoke'] as const;

/** One of {@link ADMIN_ACTIONS}. */
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/** Revokes a grant's codes and tokens, then the grant (no provider event is emitted). */
async function revokeGrant(provider: Provider, grantId: string): Promise<void> {
  await Promise.all([
    provider.AccessToken.revokeByGrantId(grantId),
    provider.RefreshToken.revokeByGrantId(grantId),
    provider.AuthorizationCode.revokeByGrantId(grantId),
    provider.Grant.adapter.destroy(grantId),
  ]);
}

/**
 * Revokes every grant of an account (its access tokens, refresh tokens and codes, then the grant)
 * and ends its sessions at the IdP, so that no refresh and no silent re-authorization works.
 * This path emits no provider event: the caller sends the CAEP event.
 *
 * @returns how many grants and sessions were ended
 */
export async function revokeAccount(
  c: Pick<ContinuousAccessContext, 'provider' | 'store'>,
  accountId: string,
): Promise<{ grants: number; sessions: number }> {
  const { provider, store } = c;
  const grants = store.grantsOf(accountId);
  const sessions = store.sessionsOf(accountId);
  await Promise.all(grants.map((grantId) => revokeGrant(provider, grantId)));
  await Promise.all(sessions.map((session) => provider.Session.adapter.destroy(session.id)));
  return { grants: grants.length, sessions: sessions.length };
}

/**
 * Runs an admin action on a demo account. The CAEP event is in the outbox (on disk) when this
 * resolves.
 *
 * @returns `false` when there is no such account
 */
export async function runAdminAction(
  c: ContinuousAccessContext,
  action: AdminAction,
  accountId: string,
): Promise<boolean> {
  if (!findDemoUser(accountId)) return false;
  const { accounts, transmitter, logger } = c;
  if (action === 'enable') {
    accounts.enable(accountId);
    logger.info(`admin: enabled ${accountId}`);
    return true;
  }
  if (action === 'disable') accounts.disable(accountId);
  const ended = await revokeAccount(c, accountId);
  const { type, reason } = ADMIN_EVENTS[action];
  logger.info(
    `admin: ${action} ${accountId}: ${ended.grants} grant(s), ${ended.sessions} session(s) revoked`,
  );
  await transmitter.emit({
    type,
    accountId,
    initiatingEntity: 'admin',
    reason,
    txn: randomBytes(12).toString('base64url'),
  });
  return true;
}

/** The CAEP event each admin action sends (after revoking the account's grants and sessions). */
const ADMIN_EVENTS = {
  disable: {
    type: 'session-revoked',
    reason: 'the account was disabled by an administrator',
  },
  'credential-change': {
    type: 'credential-change',
    reason: 'the password was changed by an administrator',
  },
  revoke: {
    type: 'session-revoked',
    reason: 'every session of the account was revoked by an administrator',
  },
} as const satisfies Record<
  Exclude<AdminAction, 'enable'>,
  { type: CaepEvent['type']; reason: string }
>;

const ADMIN_PATH = /^\/admin\/accounts\/([^/]{1,128})\/([a-z-]+)\/?$/;

/** User name of the admin interface's HTTP Basic credentials. */
export const ADMIN_USERNAME = 'admin';

/**
 * The admin interface: `POST /admin/accounts/:sub/{disable,enable,credential-change,revoke}` with
 * HTTP Basic `admin:<secret>` (compared in constant time). 204 on success, 404 for an unknown
 * account or route, 401 with `WWW-Authenticate: Basic` without valid credentials; every
 * `/admin/` route answers 404 when no secret is configured.
 *
 * @returns a handler that returns `false` for requests outside `/admin/`
 */
export function createAdminHandler(
  c: ContinuousAccessContext,
  secret: string | undefined,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const expected = secret === undefined ? undefined : basicDigest(ADMIN_USERNAME, secret);
  return async (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname !== '/admin' && !pathname.startsWith('/admin/')) return false;
    req.resume();
    if (expected === undefined) {
      sendJson(res, 404, { error: 'not_found' });
      return true;
    }
    if (!authorized(req.headers.authorization, expected)) {
      res.setHeader(
        'WWW-Authenticate',
        'Basic realm="demo identity provider admin", charset="UTF-8"',
      );
      sendJson(res, 401, { error: 'unauthorized', error_description: 'HTTP Basic admin:<secret>' });
      return true;
    }
    const match = ADMIN_PATH.exec(pathname);
    const action = ADMIN_ACTIONS.find((candidate) => candidate === match?.[2]);
    if (!match || action === undefined) {
      sendJson(res, 404, { error: 'not_found', error_description: 'no such admin route' });
      return true;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      sendJson(res, 405, { error: 'method_not_allowed' });
      return true;
    }
    let accountId: string;
    try {
      accountId = decodeURIComponent(match[1] ?? '');
    } catch {
      accountId = '';
    }
    if (!(await runAdminAction(c, action, accountId))) {
      sendJson(res, 404, { error: 'not_found', error_description: 'no such account' });
      return true;
    }
    res.statusCode = 204;
    res.setHeader('Cache-Control', 'no-store');
    res.end();
    return true;
  };
}

const basicDigest = (username: string, password: string): Buffer =>
  createHash('sha256').update(`${username}:${password}`, 'utf8').digest();

function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = /^Basic ([A-Za-z0-9+/=]{1,1024})$/i.exec(header?.trim() ?? '');
  const decoded = Buffer.from(match?.[1] ?? '', 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  const given =
    separator < 0
      ? randomBytes(32)
      : basicDigest(decoded.slice(0, separator), decoded.slice(separator + 1));
  return timingSafeEqual(given, expected) && separator >= 0;
}

/**
 * The transmitter's discovery documents: `GET /.well-known/ssf-configuration` (SSF 1.0 §7) and
 * `GET /ssf/jwks`, the transmitter key (not the OP's).
 */
export function createSsfHandler(
  issuer: string,
  transmitter: SecurityEventTransmitter,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname !== '/ssf/jwks' && pathname !== '/.well-known/ssf-configuration') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendJson(res, 405, { error: 'method_not_allowed' });
      return true;
    }
    sendJson(
      res,
      200,
      pathname === '/ssf/jwks'
        ? transmitter.jwks
        : {
            spec_version: '1_0',
            issuer,
            jwks_uri: `${issuer}/ssf/jwks`,
            delivery_methods_supported: [PUSH_DELIVERY_METHOD],
            events_supported: transmitter.eventsSupported,
          },
    );
    return true;
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}
