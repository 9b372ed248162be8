import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { RiskReason, RiskSignalInput } from '../risk.types.js';
import { BuiltInSignal, principalKey } from './built-in.js';

// The mark of a device history (not base64url: no device), in the devices' set so it never
// outlives them (which would make every device look new).
const SEEN = '*seen';
const STORED = 'device:stored';

/** A device's fingerprint (SHA-256 of the headers), as the token's device claim. @publicApi */
export function deviceFingerprint(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  names: readonly string[] = ['user-agent', 'accept-language'],
): string {
  const material = names.map((name) => {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(',') : (value ?? '');
  });
  return hash('sha256', material.join('\n'), 'base64url').slice(0, 22);
}

/**
 * Device binding of users (`cnf.jkt`, else the headers' fingerprint): scores a device other than
 * the token's, and one never seen (the first is learnt). Services are never judged on devices:
 * an upgrade changes their headers and they cannot step up. @internal
 */
export class DeviceSignal extends BuiltInSignal<'device'> {
  readonly name = 'device';
  /** When this instance last stored each device: refreshed every `ttl / 10` (≤ 1 h). */
  private readonly stored = new LRUCache<string, number>({ max: 50_000 });
  private readonly refreshMs = Math.min((this.options.ttl * 1000) / 10, 60 * 60_000);

  async evaluate(input: RiskSignalInput): Promise<RiskReason[]> {
    const principal = input.principal;
    if (principal?.kind !== 'user') return [];
    const jkt = principal.token.cnf?.jkt;
    const device =
      typeof jkt === 'string' && jkt.length > 0
        ? jkt
        : deviceFingerprint(input.request.headers, this.options.headers);
    input.facts.set('device', device);
    const key = principalKey('device', principal);
    const [known, seen] = await Promise.all([
      input.store.hasMember(key, device),
      input.store.hasMember(key, SEEN),
    ]);
    input.facts.set(STORED, { known, seen });
    const bound = principal.token.device;
    if (bound !== undefined && bound !== device) {
      const reason = 'the request comes from another device than the token was issued to';
      return [this.found(this.options.mismatchScore, reason, 'session_device_mismatch')];
    }
    if (known || !seen) return [];
    return [this.found(this.options.newDeviceScore, 'a device never seen for this principal')];
  }

  async record(input: RiskSignalInput): Promise<void> {
    const { principal, facts, store } = input;
    const device = facts.get('device');
    const stored = facts.get(STORED) as { known: boolean; seen: boolean } | undefined;
    // A device that contradicts the token's binding is never learnt.
    if (principal?.kind !== 'user' || typeof device !== 'string' || stored === undefined) return;
    if ((principal.token.device ?? device) !== device) return;
    const key = principalKey('device', principal);
    const now = input.now.getTime();
    const last = this.stored.get(`${key} ${device}`);
    if (stored.known && last !== undefined && now - last < this.refreshMs) return;
    const { ttl } = this.options;
    await Promise.all([
      store.addToSet(key, device, ttl),
      stored.seen || store.addToSet(key, SEEN, ttl),
    ]);
    this.stored.set(`${key} ${device}`, now);
  }
}
