import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEMO_TOTP_SECRETS } from './constants.js';
import { base32Decode, matchTotp } from './totp.js';

/** A user of the demo IdP. */
export interface DemoUser {
  /** Account id, used as the `sub` claim; also the login name. */
  readonly username: string;
  /** Application roles, issued in the access token's `roles` claim. */
  readonly roles: readonly string[];
}

interface StoredUser extends DemoUser {
  readonly passwordDigest: Buffer;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

const demoUser = (username: string, roles: string[]): StoredUser =>
  Object.freeze({
    username,
    roles: Object.freeze([...roles]),
    // Demo convention: the password is the user name.
    passwordDigest: digest(username),
  });

const USERS: ReadonlyMap<string, StoredUser> = new Map(
  [
    demoUser('alice', ['accountant']),
    demoUser('bob', ['customer']),
    demoUser('carol', ['admin']),
  ].map((user) => [user.username, user]),
);

/** Digest compared against when the user name is unknown, so both paths do the same work. */
const UNKNOWN_USER_DIGEST = digest(randomBytes(32).toString('hex'));

/**
 * The in-memory account store of the demo: `alice` (accountant), `bob` (customer) and
 * `carol` (admin). Each password is the user name.
 *
 * @param username - account id / login name
 * @returns the user, or `undefined` when there is no such account
 */
export function findDemoUser(username: string): DemoUser | undefined {
  const user = USERS.get(username);
  return user ? { username: user.username, roles: user.roles } : undefined;
}

/**
 * Checks a login with a constant-time comparison of password digests.
 *
 * @param username - login name as typed
 * @param password - password as typed
 * @returns the user when the credentials match, otherwise `undefined`
 */
export function verifyDemoCredentials(username: string, password: string): DemoUser | undefined {
  const user = USERS.get(username);
  const matches = timingSafeEqual(digest(password), user?.passwordDigest ?? UNKNOWN_USER_DIGEST);
  return user && matches ? { username: user.username, roles: user.roles } : undefined;
}

/** The demo's user names, in a stable order. */
export const DEMO_USERNAMES: readonly string[] = Object.freeze([...USERS.keys()]);

/** The last time step whose code each user used: a code is accepted once (RFC 6238 §5.2). */
const lastUsedStep = new Map<string, number>();

/**
 * Checks a user's one-time code (TOTP, see {@link DEMO_TOTP_SECRETS}): valid in the current
 * 30-second step or one step either side, and each code only once.
 *
 * @returns `ok`, `invalid`, or `reused` (a valid code that was already used)
 */
export function verifyDemoSecondFactor(
  username: string,
  code: string,
  now = Date.now(),
): 'ok' | 'invalid' | 'reused' {
  const secret = Object.hasOwn(DEMO_TOTP_SECRETS, username)
    ? DEMO_TOTP_SECRETS[username]
    : undefined;
  if (secret === undefined) return 'invalid';
  const step = matchTotp(base32Decode(secret), code, now);
  if (step === undefined) return 'invalid';
  if (step <= (lastUsedStep.get(username) ?? -1)) return 'reused';
  lastUsedStep.set(username, step);
  return 'ok';
}
