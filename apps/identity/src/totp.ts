/**
 * Time-based one-time passwords (RFC 6238 TOTP over RFC 4226 HOTP) with `node:crypto`: the
 * second factor of the demo IdP, and the code the CLI computes for `demo:token -- <user> --mfa`.
 *
 * Free of `oidc-provider`, so that clients can import it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** HMAC algorithms RFC 6238 allows. */
export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** TOTP parameters; the defaults are those of authenticator apps. */
export interface TotpOptions {
  /** Time step in seconds. @default 30 */
  step?: number;
  /** Number of digits. @default 6 */
  digits?: number;
  /** HMAC algorithm. @default 'sha1' */
  algorithm?: TotpAlgorithm;
}

/**
 * Decodes RFC 4648 base32 (case-insensitive; padding and spaces ignored).
 *
 * @throws Error on a character outside the base32 alphabet
 */
export function base32Decode(value: string): Buffer {
  const clean = value.replace(/[\s=]/g, '').toUpperCase();
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error('Invalid base32 secret');
    buffer = (buffer << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226 HOTP: the code for one counter value. */
export function hotp(
  key: Buffer,
  counter: number,
  digits = 6,
  algorithm: TotpAlgorithm = 'sha1',
): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step that contains `timeMs`. */
export function totpStep(timeMs: number, step = 30): number {
  return Math.floor(timeMs / 1000 / step);
}

/** RFC 6238 TOTP: the code at `timeMs` (default now). */
export function totp(key: Buffer, timeMs = Date.now(), options: TotpOptions = {}): string {
  return hotp(key, totpStep(timeMs, options.step), options.digits, options.algorithm);
}

/**
 * Finds the time step whose code is `code`, accepting one step of clock drift either way.
 * Compares in constant time.
 *
 * @returns the matching time step, or `undefined`
 */
export function matchTotp(
  key: Buffer,
  code: string,
  timeMs = Date.now(),
  options: TotpOptions = {},
): number | undefined {
  const digits = options.digits ?? 6;
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) return undefined;
  const current = totpStep(timeMs, options.step);
  let found: number | undefined;
  for (const step of [current - 1, current, current + 1]) {
    const expected = hotp(key, step, digits, options.algorithm);
    if (timingSafeEqual(Buffer.from(expected), Buffer.from(code))) found ??= step;
  }
  return found;
}
