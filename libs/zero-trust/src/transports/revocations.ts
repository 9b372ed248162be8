import type { RevocationScope } from '../stores/revocation-store.interface.js';

/** A revocation just stored: one token (`jti`), or the cutoff of a subject, session or grant. */
export type Revoked =
  | { readonly jti: string }
  | { readonly scope: RevocationScope; readonly id: string; readonly before: number };

type Listener = (revoked: Revoked) => void;

/** The listeners of each `RevocationService` (one per application of the process). */
const listeners = new WeakMap<object, Set<Listener>>();

/**
 * Calls `listener` with each revocation `service` stores, once stored: the connections it covers
 * close at once instead of at the next re-check. Returns its removal. @internal
 */
export function onRevoked(service: object, listener: Listener): () => void {
  const set = listeners.get(service) ?? new Set();
  listeners.set(service, set.add(listener));
  return () => set.delete(listener);
}

/** Tells the listeners of `service` of a stored revocation (a listener never fails it). @internal */
export function announceRevoked(service: object, revoked: Revoked): void {
  for (const listener of listeners.get(service) ?? []) {
    try {
      listener(revoked);
    } catch {
      // The revocation is stored; the connection re-check still finds what a listener missed.
    }
  }
}
