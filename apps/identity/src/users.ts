import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

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
