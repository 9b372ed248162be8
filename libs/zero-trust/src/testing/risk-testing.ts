import { randomUUID } from 'node:crypto';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import type { Principal } from '../identity/principal.interface.js';
import type { RiskSignalInput } from '../risk/risk.types.js';
import type { SharedStateStore } from '../stores/shared-state-store.interface.js';
import { testSharedStateStore } from '../stores/store.providers.js';
import { compact } from '../utils/compact.js';

/** What {@link createRiskSignalInput} accepts: every field is optional. @publicApi */
export interface RiskSignalInputOptions {
  /** The clock of the decision. @default new Date() */
  now?: Date;
  /** Client address. @default '203.0.113.10' */
  ip?: string;
  /** HTTP method. @default 'GET' */
  method?: string;
  /** Route pattern. @default '/test' */
  route?: string;
  /** Request URL (path and query). @default the route */
  url?: string;
  /** Request headers (lower-case names). @default {} */
  headers?: Record<string, string | string[] | undefined>;
  /** Parsed body. */
  body?: unknown;
  /** The caller; `null` for none. @default undefined (none) */
  principal?: Principal | null;
  /** The shared store. @default a new in-memory store on the same clock */
  store?: SharedStateStore;
}

/** A {@link RiskSignal}'s input for unit tests: pinned clock, in-memory store. @publicApi */
export function createRiskSignalInput(options: RiskSignalInputOptions = {}): RiskSignalInput {
  const { now = new Date(), route = '/test' } = options;
  const principal = options.principal ?? undefined;
  const context: ZeroTrustRequestContext = compact({
    requestId: randomUUID(),
    time: now,
    ip: options.ip ?? '203.0.113.10',
    peer: '127.0.0.1',
    method: options.method ?? 'GET',
    route,
    resources: new Map(),
    resolved: new Map(),
    principal,
  });
  return {
    context,
    principal,
    request: { headers: options.headers ?? {}, url: options.url ?? route, body: options.body },
    store: options.store ?? testSharedStateStore(() => now.getTime()),
    now,
    facts: new Map(),
  };
}
