import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { errors, type Interaction, type Provider } from 'oidc-provider';

import { DEMO_ACR, DEMO_CLI_CLIENT_ID, DEMO_MFA_ACR } from './constants.js';
import { DEMO_USERNAMES, verifyDemoCredentials, verifyDemoSecondFactor } from './users.js';

/** Largest login form body accepted, in bytes. */
export const MAX_FORM_BYTES = 8 * 1024;

/** Longest user name or password accepted, in characters. */
const MAX_FIELD_LENGTH = 256;

const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]{1,128})(\/login|\/abort)?\/?$/;

/** Loggers used by the interaction routes. */
export interface InteractionLogger {
  /** Informational events (logins, consents); silenced by the IdP's `quiet` option. */
  info(message: string): void;
  /** Failed logins and refused requests; silenced by the IdP's `quiet` option. */
  warn(message: string): void;
  /** Unexpected failures; always printed. */
  error(message: string, error: unknown): void;
}

/**
 * Handles one HTTP request if it targets the demo's own interaction routes.
 *
 * - `GET /interaction/:uid`: the login form, or (for the consent prompt) an automatic consent
 *   for the demo client;
 * - `POST /interaction/:uid/login`: checks the credentials, then finishes the login prompt;
 * - `GET /interaction/:uid/abort`: ends the authorization request with `access_denied`.
 *
 * @returns `false` when the request is for another route (and was left untouched)
 */
export type InteractionHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * Creates the handler of the demo's own interaction routes (login and consent), which replace
 * oidc-provider's `devInteractions`. The handler never throws: bad input gets a 4xx page.
 *
 * @param provider - the provider whose interactions are served
 * @param logger - where to report logins and failures
 */
export function createInteractionHandler(
  provider: Provider,
  logger: InteractionLogger,
  options: { isDisabled?: (accountId: string) => boolean } = {},
): InteractionHandler {
  const isDisabled = options.isDisabled ?? (() => false);
  return async (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    const match = INTERACTION_PATH.exec(pathname);
    if (!match) return false;
    const uid = match[1] ?? '';
    const action = match[2] ?? '';

    try {
      if (action === '/login') {
        if (req.method === 'POST') await submitLogin(provider, logger, req, res, uid, isDisabled);
        else methodNotAllowed(res, 'POST');
      } else if (req.method !== 'GET') {
        methodNotAllowed(res, 'GET');
      } else if (action === '/abort') {
        await abort(provider, logger, req, res, uid);
      } else {
        await showInteraction(provider, logger, req, res, uid);
      }
    } catch (error) {
      handleError(logger, res, error);
    }
    return true;
  };
}

async function loadInteraction(
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
): Promise<Interaction> {
  const interaction = await provider.interactionDetails(req, res);
  if (interaction.uid !== uid) {
    throw new HttpError(400, 'This page belongs to another sign-in attempt. Start again.');
  }
  return interaction;
}

async function showInteraction(
  provider: Provider,
  logger: InteractionLogger,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
): Promise<void> {
  const interaction = await loadInteraction(provider, req, res, uid);
  switch (interaction.prompt.name) {
    case 'login': {
      const hint = interaction.prompt.details.login_hint;
      sendHtml(res, 200, loginPage(interaction, typeof hint === 'string' ? hint : ''));
      return;
    }
    case 'consent':
      await grantConsent(provider, logger, req, res, interaction);
      return;
    default:
      throw new HttpError(400, 'This sign-in step is not supported by the demo.');
  }
}

/** The demo client is first-party: consent is given on the End-User's behalf, and logged. */
async function grantConsent(
  provider: Provider,
  logger: InteractionLogger,
  req: IncomingMessage,
  res: ServerResponse,
  interaction: Interaction,
): Promise<void> {
  const clientId = interaction.params.client_id;
  const accountId = interaction.session?.accountId;

  if (clientId !== DEMO_CLI_CLIENT_ID) {
    logger.warn(`consent refused: client ${JSON.stringify(clientId)} is not the demo client`);
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'consent is only given to the demo client' },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  if (!accountId) throw new HttpError(400, 'Sign in first.');

  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = interaction.prompt.details;

  if (missingOIDCScope?.length) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims?.length) grant.addOIDCClaims(missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  const grantId = await grant.save();

  logger.info(`consent granted to ${clientId} for ${accountId}`);
  await provider.interactionFinished(
    req,
    res,
    { consent: { grantId } },
    { mergeWithLastSubmission: true },
  );
}

async function submitLogin(
  provider: Provider,
  logger: InteractionLogger,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
  isDisabled: (accountId: string) => boolean,
): Promise<void> {
  const interaction = await loadInteraction(provider, req, res, uid);
  if (interaction.prompt.name !== 'login') {
    throw new HttpError(400, 'You are already signed in. Start again from your application.');
  }

  const form = await readForm(req);
  const username = (form.get('username') ?? '').trim();
  const password = form.get('password') ?? '';
  const otp = (form.get('otp') ?? '').trim();

  if (!username || !password) {
    sendHtml(res, 400, loginPage(interaction, username, 'Enter a user name and a password.'));
    return;
  }
  const user =
    username.length <= MAX_FIELD_LENGTH && password.length <= MAX_FIELD_LENGTH
      ? verifyDemoCredentials(username, password)
      : undefined;
  if (!user) {
    logger.warn(`failed login for ${JSON.stringify(username.slice(0, 64))}`);
    sendHtml(res, 401, loginPage(interaction, username, 'Invalid user name or password.'));
    return;
  }
  if (isDisabled(user.username)) {
    logger.warn(`refused login of disabled account ${user.username}`);
    sendHtml(res, 403, loginPage(interaction, username, 'This account is disabled.'));
    return;
  }

  // The optional second factor: a one-time code raises the authentication level.
  if (otp !== '') {
    const check = verifyDemoSecondFactor(user.username, otp.slice(0, 16));
    if (check !== 'ok') {
      logger.warn(`failed second factor for ${user.username} (${check})`);
      const message =
        check === 'reused'
          ? 'This one-time code was already used. Wait for the next one.'
          : 'Invalid one-time code.';
      sendHtml(res, 401, loginPage(interaction, username, message));
      return;
    }
  }
  const mfa = otp !== '';

  logger.info(`${user.username} signed in${mfa ? ' with a second factor' : ''}`);
  await provider.interactionFinished(
    req,
    res,
    {
      login: {
        accountId: user.username,
        acr: mfa ? DEMO_MFA_ACR : DEMO_ACR,
        amr: mfa ? ['pwd', 'otp'] : ['pwd'],
        remember: false,
        ts: Math.floor(Date.now() / 1000),
      },
    },
    { mergeWithLastSubmission: false },
  );
}

async function abort(
  provider: Provider,
  logger: InteractionLogger,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
): Promise<void> {
  await loadInteraction(provider, req, res, uid);
  logger.info('sign-in cancelled by the user');
  await provider.interactionFinished(
    req,
    res,
    { error: 'access_denied', error_description: 'End-User aborted interaction' },
    { mergeWithLastSubmission: false },
  );
}

/** Reads a size-capped `application/x-www-form-urlencoded` body. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new HttpError(415, 'The form must be sent as application/x-www-form-urlencoded.');
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_FORM_BYTES) {
    throw new HttpError(413, 'The form is too large.', true);
  }

  const body = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        cleanup();
        req.pause();
        reject(new HttpError(413, 'The form is too large.', true));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onAborted = (): void => {
      cleanup();
      reject(new HttpError(400, 'The request was aborted.', true));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
  return new URLSearchParams(body);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly closeConnection = false,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function handleError(logger: InteractionLogger, res: ServerResponse, error: unknown): void {
  if (error instanceof HttpError) {
    if (error.closeConnection) res.setHeader('Connection', 'close');
    sendHtml(res, error.status, messagePage('Cannot continue', error.message));
    return;
  }
  if (error instanceof errors.SessionNotFound) {
    sendHtml(
      res,
      400,
      messagePage(
        'Sign-in expired',
        'This sign-in attempt was not found or has expired (or cookies are disabled). Start again from your application.',
      ),
    );
    return;
  }
  logger.error('interaction failed', error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendHtml(res, 500, messagePage('Something went wrong', 'Please start again.'));
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendHtml(res, 405, messagePage('Method not allowed', `Use ${allow}.`));
}

// ---------------------------------------------------------------------------------------------
// HTML

const STYLE =
  'body{font:16px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1f23}' +
  'main{max-width:22rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:8px;' +
  'box-shadow:0 1px 3px rgba(0,0,0,.15)}h1{margin-top:0;font-size:1.4rem}' +
  'label{display:block;margin:.8rem 0}input{display:block;width:100%;box-sizing:border-box;' +
  'padding:.5rem;margin-top:.25rem;font:inherit}button{width:100%;padding:.6rem;font:inherit;' +
  'background:#2458d3;color:#fff;border:0;border-radius:4px;cursor:pointer}' +
  '.error{color:#a4161a;font-weight:600}.hint{color:#5b6068;font-size:.85rem}';

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * Escapes text for use in HTML element content and in double- or single-quoted attributes.
 *
 * @param value - untrusted text
 */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Demo identity provider</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function loginPage(interaction: Interaction, username: string, error?: string): string {
  const uid = escapeHtml(interaction.uid);
  const client = escapeHtml(interaction.params.client_id ?? 'an application');
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to <strong>${client}</strong></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login" autocomplete="off">
<label>User name <input name="username" value="${escapeHtml(username.slice(0, MAX_FIELD_LENGTH))}" required autofocus autocapitalize="none" spellcheck="false" maxlength="${MAX_FIELD_LENGTH}"></label>
<label>Password <input name="password" type="password" required maxlength="${MAX_FIELD_LENGTH}"></label>
<label>One-time code <span class="hint">(optional second factor)</span> <input name="otp" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code"></label>
<button type="submit">Sign in</button>
</form>
<p class="hint">Demo users: ${DEMO_USERNAMES.map(escapeHtml).join(', ')}. The password is the user name; their TOTP secrets are in the README.</p>
<p class="hint"><a href="/interaction/${uid}/abort">Cancel</a></p>`,
  );
}

function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  const body = Buffer.from(html, 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.end(body);
}
