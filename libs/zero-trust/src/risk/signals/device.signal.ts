import { hash } from 'node:crypto';
import type { ResolvedRiskOptions } from '../../options/validate-options.js';
import { LruCache } from '../../utils/lru-cache.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';
import { principalKey } from './keys.js';

type Options = NonNullable<ResolvedRiskOptions['device']>;

/**
 * The member of a principal's device set that says it has a device history: never a device
 * (fingerprints and JWK thumbprints are base64url, without `*`).
 */
const SEEN = '*seen';

/** Devices per principal whose last refresh an instance remembers. */
const DEVICES_REMEMBERED = 16;

/**
 * The fingerprint of a request's device: SHA-256 (base64url, 22 characters) of the listed
 * headers' values. An issuer that binds tokens to a device puts this value in the device claim.
 *
 * @publicApi
 */
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
 * Device binding of users. The request's device is the DPoP key thumbprint when the token has
 * `cnf.jkt`, otherwise the {@link deviceFingerprint} of the configured headers. It scores a
 * request whose device differs from the token's device claim, and a device never seen for this
 * principal (the first device of a principal is learnt, not scored). Devices are learnt from
 * successful requests only, and stored hashed; the mark that a principal has a device history
 * is a member of the same set, so both go together (a mark that outlived its devices would make
 * every device look new).
 *
 * Services and integrations are never judged on devices: a workload's "device" is its client
 * library's headers, which change with an upgrade, and a workload cannot step up, so a new
 * device would be refused for good (a refused request learns nothing). Bind their tokens (mTLS,
 * DPoP) instead.
 *
 * @publicApi
 */
export class DeviceSignal implements RiskSignal {
  readonly name = 'device';
  /**
   * When this instance last stored each device, by principal key: see {@link record}. At most
   * {@link DEVICES_REMEMBERED} devices per principal (more only means more refreshes).
   */
  private readonly learnt = new LruCache<string, Map<string, number>>(10_000, 60 * 60_000);
  private readonly refreshMs: number;

  constructor(private readonly options: Options) {
    this.refreshMs = Math.min((options.ttl * 1000) / 10, 60 * 60_000);
  }

  /** The device of this request. */
  deviceOf(input: RiskSignalInput): string {
    const jkt = input.principal?.token.cnf?.jkt;
    if (typeof jkt === 'string' && jkt.length > 0) return jkt;
    return deviceFingerprint(input.request.headers, this.options.headers);
  }

  async evaluate(input: RiskSignalInput): Promise<RiskReason[]> {
    const principal = input.principal;
    if (principal === undefined || principal.kind !== 'user') return [];
    const device = this.deviceOf(input);
    input.facts.set('device', device);
    const reasons: RiskReason[] = [];
    const bound = principal.token.device;
    if (bound !== undefined && bound !== device) {
      reasons.push({
        signal: this.name,
        score: this.options.mismatchScore,
        reason: 'the request comes from another device than the token was issued to',
        event: 'session_device_mismatch',
      });
    }
    const key = principalKey('device', principal);
    const [known, seen] = await Promise.all([
      input.store.hasMember(key, device),
      input.store.hasMember(key, SEEN),
    ]);
    if (known) input.facts.set('deviceKnown', true);
    if (seen) input.facts.set('deviceHistory', true);
    // A device that contradicts the binding is already scored: not again as a new device.
    if (!known && seen && reasons.length === 0) {
      reasons.push({
        signal: this.name,
        score: this.options.newDeviceScore,
        reason: 'a device never seen for this principal',
      });
    }
    return reasons;
  }

  async record(input: RiskSignalInput): Promise<void> {
    const device = input.facts.get('device');
    if (input.principal?.kind !== 'user' || typeof device !== 'string') return;
    // A device that contradicts the token's binding is never learnt.
    const bound = input.principal.token.device;
    if (bound !== undefined && bound !== device) return;
    const key = principalKey('device', input.principal);
    // A device the store already knew, learnt here recently: its time to live is refreshed at
    // most every `ttl / 10` (an hour at most), not on every request.
    const now = input.now.getTime();
    const devices = this.learnt.get(key);
    const last = devices?.get(device);
    if (
      input.facts.get('deviceKnown') === true &&
      last !== undefined &&
      now - last < this.refreshMs
    )
      return;
    await Promise.all([
      input.store.addToSet(key, device, this.options.ttl),
      input.facts.get('deviceHistory') === true ||
        input.store.addToSet(key, SEEN, this.options.ttl),
    ]);
    const remembered = this.learnt.get(key) ?? new Map<string, number>();
    if (remembered.size >= DEVICES_REMEMBERED) remembered.clear();
    remembered.set(device, now);
    this.learnt.set(key, remembered);
  }
}
