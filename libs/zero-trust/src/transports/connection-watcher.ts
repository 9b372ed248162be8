import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import { DependencyUnavailableError, InvalidTokenError } from '../errors/zero-trust.error.js';
import type { ZeroTrustError } from '../errors/zero-trust.error.js';
import type { Principal } from '../identity/principal.interface.js';
import { RevocationService } from '../identity/revocation.service.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import {
  cutOff,
  RevocationStore,
  scopesOf,
  type RevocableToken,
} from '../stores/revocation-store.interface.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { onRevoked, type Revoked } from './revocations.js';

/** What the watcher needs of an open connection. @internal */
export interface WatchedConnection {
  /** The principal the connection was opened with. */
  readonly principal: Principal;
  /** The connection's decision context (its handshake's), for the record of its end. */
  readonly context: ZeroTrustRequestContext;
  /** Closes the connection for `refusal` (the transport's close code and message). */
  end(refusal: ZeroTrustError): void;
}

interface Entry {
  readonly connection: WatchedConnection;
  readonly token: RevocableToken & { readonly exp: number };
  timer?: NodeJS.Timeout;
}

/** The longest delay `setTimeout` takes (a longer one fires at once). */
const MAX_DELAY = 2 ** 31 - 1;
/** Store calls of one re-check in flight at once: thousands of sockets, no burst. */
const CONCURRENCY = 8;

/**
 * Closes each open long-lived connection, without waiting for its next message: at its token's
 * `exp`, at once on a revocation made through this instance's `RevocationService`, and at the
 * next `connections.recheckInterval` re-check against the store for one made elsewhere (fail
 * closed: a store that fails closes what it could not check). @internal
 */
@Injectable()
export class ConnectionWatcher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ZeroTrust');
  private readonly entries = new Set<Entry>();
  private recheck: NodeJS.Timeout | undefined;
  private checking = false;
  private stopListening: (() => void) | undefined;

  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    @Inject(RevocationStore) private readonly store: RevocationStore,
    private readonly revocations: RevocationService,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    this.stopListening = onRevoked(this.revocations, (revoked) => this.revoked(revoked));
  }

  onModuleDestroy(): void {
    this.stopListening?.();
    clearInterval(this.recheck);
    for (const entry of this.entries) clearTimeout(entry.timer);
    this.entries.clear();
  }

  /** How many connections are watched. */
  get size(): number {
    return this.entries.size;
  }

  /** Watches `connection` until it ends; returns what stops watching it (call it on close). */
  watch(connection: WatchedConnection): () => void {
    const { principal } = connection;
    const { jti, iat, exp, authTime, sid, grant } = principal.token;
    const token = { jti, sub: principal.subject, iat, exp, authTime, sid, grant };
    const entry: Entry = { connection, token };
    this.entries.add(entry);
    this.recheck ??= setInterval(
      () => void this.checkAll(),
      this.options.connections.recheckInterval * 1000,
    ).unref();
    this.arm(entry);
    return () => this.forget(entry);
  }

  /** Schedules the end at `exp` (in steps, past the longest delay a timer takes). */
  private arm(entry: Entry): void {
    const delay = entry.token.exp * 1000 - Date.now();
    if (delay <= 0) return this.end(entry, new InvalidTokenError('ZT_TOKEN_EXPIRED'));
    entry.timer = setTimeout(() => this.arm(entry), Math.min(delay, MAX_DELAY)).unref();
  }

  private forget(entry: Entry): void {
    clearTimeout(entry.timer);
    this.entries.delete(entry);
    if (this.entries.size > 0) return;
    clearInterval(this.recheck);
    this.recheck = undefined;
  }

  /** Records why the connection ends, then closes it. */
  private end(entry: Entry, refusal: ZeroTrustError): void {
    if (!this.entries.has(entry)) return;
    this.forget(entry);
    const { connection } = entry;
    this.audit.record(connection.context, {
      action: 'session_expired',
      decision: 'deny',
      mode: 'enforce',
      code: refusal.code,
      reason: `The connection was closed: ${refusal.message}`,
    });
    try {
      connection.end(refusal);
    } catch (error) {
      this.logger.error('A connection could not be closed', error);
    }
  }

  /** A revocation stored here: the connections it covers end now. */
  private revoked(revoked: Revoked): void {
    const covers = (token: RevocableToken): boolean =>
      'jti' in revoked
        ? token.jti === revoked.jti
        : scopesOf(token).some(([scope, id]) => scope === revoked.scope && id === revoked.id) &&
          cutOff(token, revoked.before);
    for (const entry of this.entries)
      if (covers(entry.token)) this.end(entry, new InvalidTokenError('ZT_TOKEN_REVOKED'));
  }

  /** Checks every watched token against the store: once per token, a few at a time. */
  async checkAll(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const byToken = new Map<string, [Entry, ...Entry[]]>();
      for (const entry of this.entries) {
        const group = byToken.get(entry.token.jti);
        if (group === undefined) byToken.set(entry.token.jti, [entry]);
        else group.push(entry);
      }
      const queue = [...byToken.values()];
      const worker = async (): Promise<void> => {
        for (let group = queue.pop(); group !== undefined; group = queue.pop())
          await this.check(group);
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      this.checking = false;
    }
  }

  /** Ends a token's connections if it is revoked or the store cannot tell (fail closed). */
  private async check(group: [Entry, ...Entry[]]): Promise<void> {
    let refusal: ZeroTrustError;
    try {
      if (!(await this.store.isRevoked(group[0].token))) return;
      refusal = new InvalidTokenError('ZT_TOKEN_REVOKED');
    } catch (error) {
      refusal = new DependencyUnavailableError('ZT_STORE_UNAVAILABLE', error);
    }
    for (const entry of group) this.end(entry, refusal);
  }
}
