/**
 * The demo IdP as a Shared Signals transmitter: CAEP Security Event Tokens (RFC 8417, SSF 1.0,
 * CAEP 1.0) signed with the transmitter's own key and pushed (RFC 8935) through a persistent
 * outbox, retried with exponential back-off until the receiver accepts them.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { importJWK, SignJWT } from 'jose';

import type { TransmitterKey } from './keys.js';

/** Where and how SETs are pushed (RFC 8935). */
export interface SecurityEventsOptions {
  /** The receiver's push endpoint (`POST`). */
  endpoint: string;
  /** The `Authorization` header value sent with every push, e.g. `Bearer <token>`. */
  authorization: string;
  /** The receiver's identifier: the SETs' `aud`. */
  audience: string;
}

/** Back-off of the outbox; short values are for tests. */
export interface RetryOptions {
  /** Delay before the first retry, in milliseconds (doubled each time, with jitter). @default 1000 */
  initialDelayMs?: number;
  /** Longest delay between two attempts, in milliseconds. @default 60000 */
  maxDelayMs?: number;
}

/** What the running IdP exposes of its outbox. */
export interface SecurityEventsStatus {
  /** SETs not yet accepted by the receiver (including those still being signed). */
  pending(): number;
  /** Resolves once the outbox is empty (every SET delivered, or dropped after a 4xx). */
  drained(): Promise<void>;
}

/** RFC 9493 subject identifiers used by the demo. */
export type SubjectId =
  | { format: 'iss_sub'; iss: string; sub: string }
  | {
      format: 'complex';
      user: { format: 'iss_sub'; iss: string; sub: string };
      session: { format: 'opaque'; id: string };
    };

/** Who caused an event (CAEP `initiating_entity`). */
export type InitiatingEntity = 'admin' | 'user' | 'policy' | 'system';

/** A CAEP event the demo IdP emits, before it is wrapped in a SET. */
export interface CaepEvent {
  /** `session-revoked` or `credential-change`. */
  type: 'session-revoked' | 'credential-change';
  /** The account the event is about (also the delivery lane: one account's SETs stay in order). */
  accountId: string;
  /** The session (`sid` as in the client's tokens); without it the subject is the user. */
  sid?: string;
  initiatingEntity: InitiatingEntity;
  /** Why, for administrators (English). */
  reason: string;
  /** One value per underlying cause, shared by the SETs it caused (`txn`). */
  txn?: string;
}

/** The CAEP event type URIs. */
export const CAEP_EVENT_TYPES = {
  'session-revoked': 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  'credential-change': 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
} as const;

/** RFC 8935 push delivery method URI. */
export const PUSH_DELIVERY_METHOD = 'urn:ietf:rfc:8935';

/** File name of the outbox inside the data directory. */
export const OUTBOX_FILE = 'ssf-outbox.jsonl';

/** Time allowed for one push, in milliseconds. */
const REQUEST_TIMEOUT_MS = 2_500;

interface OutboxEntry {
  /** The SET's `jti`. */
  jti: string;
  /** Delivery lane (the account): SETs of one lane are delivered in order. */
  lane: string;
  /** The signed SET, compact serialization. */
  set: string;
  /** Failed attempts so far. */
  attempts: number;
}

type Outcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'drop'; reason: string }
  | { kind: 'aborted' };

interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error: unknown): void;
}

/**
 * Signs CAEP events as SETs and pushes them to one receiver. Every SET is written to
 * `dataDir/ssf-outbox.jsonl` (replaced atomically) before the first attempt and removed once the
 * receiver answers 202 (200 and 204 are accepted too), so a restart with the same `dataDir`
 * delivers what was pending. Timeouts, connection errors, 5xx and 429 are retried with
 * exponential back-off and jitter (honouring `Retry-After`); any other answer drops the SET with
 * an error in the log. SETs of one account are delivered in order, accounts independently.
 */
export class SecurityEventTransmitter implements SecurityEventsStatus {
  readonly #issuer: string;
  readonly #key: TransmitterKey | undefined;
  readonly #target: SecurityEventsOptions | undefined;
  readonly #file: string;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #logger: Logger;

  #signingKey: Awaited<ReturnType<typeof importJWK>> | undefined;
  #entries: OutboxEntry[] = [];
  /** Lanes with a delivery in flight or a retry scheduled. */
  readonly #busyLanes = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #work = new Set<Promise<unknown>>();
  readonly #waiters = new Set<() => void>();
  readonly #abort = new AbortController();
  #signing = 0;
  #persisting: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(o: {
    issuer: string;
    key: TransmitterKey | undefined;
    target: SecurityEventsOptions | undefined;
    dataDir: string;
    retry: RetryOptions;
    logger: Logger;
  }) {
    this.#issuer = o.issuer;
    this.#key = o.key;
    this.#target = o.target;
    this.#file = join(o.dataDir, OUTBOX_FILE);
    this.#initialDelayMs = o.retry.initialDelayMs ?? 1_000;
    this.#maxDelayMs = o.retry.maxDelayMs ?? 60_000;
    this.#logger = o.logger;
  }

  /**
   * Loads the outbox left by a previous run and starts delivering it.
   *
   * @param o.key - the signing key; required with a `target`
   * @param o.target - the receiver; without one, events are neither signed nor queued
   */
  static async start(o: {
    issuer: string;
    key: TransmitterKey | undefined;
    target: SecurityEventsOptions | undefined;
    dataDir: string;
    retry?: RetryOptions;
    logger: Logger;
  }): Promise<SecurityEventTransmitter> {
    const transmitter = new SecurityEventTransmitter({ ...o, retry: o.retry ?? {} });
    await transmitter.#load();
    return transmitter;
  }

  /** The public JWK Set of the transmitter (`GET {issuer}/ssf/jwks`). */
  get jwks(): { keys: object[] } {
    return { keys: this.#key ? [this.#key.publicJwk] : [] };
  }

  /** The `events_supported` of the transmitter configuration. */
  get eventsSupported(): string[] {
    return Object.values(CAEP_EVENT_TYPES);
  }

  pending(): number {
    return this.#entries.length + this.#signing;
  }

  drained(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolveDrained) => this.#waiters.add(resolveDrained));
  }

  /**
   * Signs the event as a SET and appends it to the outbox (on disk) before delivery starts.
   * Resolves once the SET is persisted; never rejects (failures are logged).
   */
  emit(event: CaepEvent): Promise<void> {
    const work = this.#enqueue(event);
    this.#track(work); // close() waits for it: the SET is on disk before the IdP stops
    return work;
  }

  async #enqueue(event: CaepEvent): Promise<void> {
    if (this.#target === undefined) return;
    this.#signing += 1;
    try {
      const jti = randomBytes(16).toString('base64url');
      const set = await this.#sign(event, jti, this.#target.audience);
      this.#entries.push({ jti, lane: event.accountId, set, attempts: 0 });
      await this.#persist();
      this.#logger.info(
        `queued ${event.type} for ${event.accountId}${event.sid ? ` (session ${event.sid})` : ''}`,
      );
    } catch (error) {
      this.#logger.error(`could not queue ${event.type} for ${event.accountId}`, error);
    } finally {
      this.#signing -= 1;
    }
    this.#pump();
    this.#notify();
  }

  /** Stops delivering (in-flight pushes are aborted, the outbox stays on disk for the next run). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await Promise.allSettled(this.#work);
    await this.#persisting;
  }

  async #sign(event: CaepEvent, jti: string, audience: string): Promise<string> {
    if (this.#key === undefined) throw new Error('the transmitter has no signing key');
    const signingKey = (this.#signingKey ??= await importJWK(this.#key.privateJwk, 'RS256'));
    const now = Math.floor(Date.now() / 1000);
    const user = { format: 'iss_sub' as const, iss: this.#issuer, sub: event.accountId };
    const subId: SubjectId =
      event.sid === undefined
        ? user
        : { format: 'complex', user, session: { format: 'opaque', id: event.sid } };
    const common = {
      event_timestamp: now,
      initiating_entity: event.initiatingEntity,
      reason_admin: { en: event.reason },
    };
    const body =
      event.type === 'credential-change'
        ? { credential_type: 'password', change_type: 'update', ...common }
        : common;
    return new SignJWT({
      ...(event.txn === undefined ? {} : { txn: event.txn }),
      sub_id: subId,
      events: { [CAEP_EVENT_TYPES[event.type]]: body },
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'secevent+jwt', kid: this.#key.privateJwk.kid })
      .setIssuer(this.#issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setJti(jti)
      .sign(signingKey);
  }

  /** Starts a delivery on every idle lane that has SETs waiting. */
  #pump(): void {
    if (this.#closed || this.#target === undefined) return;
    for (const { lane } of this.#entries) {
      if (this.#busyLanes.has(lane)) continue;
      this.#busyLanes.add(lane);
      this.#track(this.#deliverLane(lane, this.#target));
    }
  }

  #track(work: Promise<unknown>): void {
    this.#work.add(work);
    void work.finally(() => this.#work.delete(work));
  }

  /** Delivers the oldest SET of a lane, then the next, until the lane is empty or must wait. */
  async #deliverLane(lane: string, target: SecurityEventsOptions): Promise<void> {
    for (;;) {
      const entry = this.#entries.find((candidate) => candidate.lane === lane);
      if (entry === undefined || this.#closed) break;
      const outcome = await this.#push(entry, target);
      if (outcome.kind === 'aborted') break;
      if (outcome.kind === 'retry') {
        entry.attempts += 1;
        await this.#persist();
        const delay = this.#delay(entry.attempts, outcome.retryAfterMs);
        this.#logger.warn(
          `push of SET ${entry.jti} failed (${outcome.reason}); attempt ${entry.attempts + 1} in ${delay} ms`,
        );
        if (this.#closed) break;
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          this.#track(this.#deliverLane(lane, target));
        }, delay);
        this.#timers.add(timer);
        return;
      }
      if (outcome.kind === 'drop') {
        this.#logger.error(`dropped SET ${entry.jti} for ${lane}`, new Error(outcome.reason));
      } else {
        this.#logger.info(`delivered SET ${entry.jti} for ${lane}`);
      }
      this.#entries = this.#entries.filter((candidate) => candidate !== entry);
      await this.#persist();
      this.#notify();
    }
    this.#busyLanes.delete(lane);
  }

  async #push(entry: OutboxEntry, target: SecurityEventsOptions): Promise<Outcome> {
    let response: Response;
    try {
      response = await fetch(target.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/secevent+jwt',
          accept: 'application/json',
          authorization: target.authorization,
        },
        body: entry.set,
        redirect: 'manual',
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
    } catch (error) {
      if (this.#abort.signal.aborted) return { kind: 'aborted' };
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no answer within ${REQUEST_TIMEOUT_MS} ms`
          : describeNetworkError(error);
      return { kind: 'retry', reason };
    }
    const text = await response.text().catch(() => '');
    const { status } = response;
    if (status === 202 || status === 200 || status === 204) return { kind: 'delivered' };
    const reason = `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    if (status === 429 || status >= 500) {
      return {
        kind: 'retry',
        reason,
        retryAfterMs: retryAfter(response.headers.get('retry-after')),
      };
    }
    return { kind: 'drop', reason };
  }

  /** Exponential back-off with jitter (half fixed, half random), at least any `Retry-After`. */
  #delay(attempts: number, retryAfterMs: number | undefined): number {
    const base = Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** (attempts - 1));
    const jittered = Math.round(base / 2 + (Math.random() * base) / 2);
    return Math.min(this.#maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  #notify(): void {
    if (this.pending() !== 0) return;
    for (const resolveDrained of this.#waiters) resolveDrained();
    this.#waiters.clear();
  }

  async #load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return;
      throw error;
    }
    for (const [index, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      const entry = parseEntry(line);
      if (entry === undefined) {
        this.#logger.warn(`${this.#file}:${index + 1} is not an outbox entry; skipped`);
        continue;
      }
      this.#entries.push(entry);
    }
    if (this.#entries.length === 0) return;
    if (this.#target === undefined) {
      this.#logger.warn(
        `${this.#entries.length} SET(s) wait in ${this.#file}, but no receiver is configured`,
      );
      return;
    }
    this.#logger.info(`resuming delivery of ${this.#entries.length} SET(s) from ${this.#file}`);
    this.#pump();
  }

  /** Writes the outbox as it is now: a temporary file renamed over the old one. */
  #persist(): Promise<void> {
    const write = async (): Promise<void> => {
      const text = this.#entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
      const temporary = `${this.#file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(temporary, text, { mode: 0o600 });
        await rename(temporary, this.#file);
      } catch (error) {
        await unlink(temporary).catch(() => undefined);
        throw error;
      }
    };
    const run = this.#persisting.then(write);
    this.#persisting = run.catch((error: unknown) => {
      this.#logger.error(`could not write ${this.#file}`, error);
    });
    return this.#persisting;
  }
}

function parseEntry(line: string): OutboxEntry | undefined {
  try {
    const value = JSON.parse(line) as Partial<OutboxEntry> | null;
    if (
      typeof value?.jti === 'string' &&
      typeof value.lane === 'string' &&
      typeof value.set === 'string' &&
      typeof value.attempts === 'number'
    ) {
      return { jti: value.jti, lane: value.lane, set: value.set, attempts: value.attempts };
    }
  } catch {
    // Reported by the caller.
  }
  return undefined;
}

/** `Retry-After` in milliseconds (delay-seconds or an HTTP date), if present and valid. */
function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeNetworkError(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    if ('code' in current && typeof current.code === 'string') return current.code;
    current = current.cause;
  }
  return error instanceof Error ? error.message : String(error);
}
