import { Logger } from '@nestjs/common';
import type { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import type { StoreFullError } from '../errors/zero-trust.error.js';

const logger = new Logger('ZeroTrustStore');
const LOG_EVERY = 10_000; // ms
const lastLogged = new WeakMap<ZeroTrustMetrics, Map<string, number>>();

// What is refused, and what to do.
const ADVICE = {
  replay:
    'new DPoP proofs are refused with 503 ZT_STORE_FULL until replay entries expire; raise store.limits.replay, or look for a client flooding DPoP requests',
  revocation:
    'new revocations are refused with ZT_STORE_FULL until revoked tokens expire; raise store.limits.revocations',
} as const;

/** Counts a refusal by a full store and logs what is refused and what to do. @internal */
export function reportStoreFull(error: StoreFullError, metrics: ZeroTrustMetrics): void {
  metrics.storeFull(error.concern);
  let logged = lastLogged.get(metrics);
  if (logged === undefined) lastLogged.set(metrics, (logged = new Map()));
  if (!due(logged, error.concern)) return;
  const budget = error.limit === undefined ? '' : ` (${error.limit} entries)`;
  logger.error(`The ${error.concern} store is full${budget}: ${ADVICE[error.concern]}`);
}

/** Whether `key` was not logged in the last ten seconds (then notes it now). @internal */
export function due(logged: Map<string, number>, key: string): boolean {
  const now = Date.now();
  if (now - (logged.get(key) ?? -LOG_EVERY) < LOG_EVERY) return false;
  logged.set(key, now);
  return true;
}
