import { Inject, Injectable } from '@nestjs/common';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { RiskSignalProvider } from '../risk/risk.engine.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk/risk.types.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';

/** State key of a user's lowered assurance level: `<iat> lowered`. @internal */
export const assuranceKey = (sub: string): string =>
  `zt:risk:caep:assurance:${encodeURIComponent(sub)}`;

/** State key of a device's compliance: `<iat> compliant|not-compliant`. @internal */
export const deviceKey = (device: string): string =>
  `zt:risk:caep:device:${encodeURIComponent(device)}`;

/**
 * What the transmitter's CAEP events say about a user's request: a token authenticated before a
 * lowered assurance level steps up; a device reported non-compliant scores
 * `nonCompliantDeviceScore`. Registered with the Shared Signals receiver. @internal
 */
@Injectable()
@RiskSignalProvider()
export class ContinuousAccessSignal implements RiskSignal {
  readonly name = 'continuous-access';

  constructor(@Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions) {}

  async evaluate({ principal, store, facts }: RiskSignalInput): Promise<RiskReason[]> {
    if (principal?.kind !== 'user') return [];
    const { token } = principal;
    const device = facts.get('device') ?? token.device ?? token.cnf?.jkt;
    const [assurance, compliance] = await Promise.all([
      store.get(assuranceKey(principal.subject)),
      typeof device === 'string' ? store.get(deviceKey(device)) : undefined,
    ]);
    const reasons: RiskReason[] = [];
    const lowered = Number(assurance?.split(' ')[0]);
    // Authenticated before the level was lowered: an authentication since then is needed.
    if ((token.authTime ?? token.iat) <= lowered) {
      const { stepUpAbove, denyAbove } = this.options.risk;
      const score = Math.min(stepUpAbove + 1, denyAbove);
      const reason = 'the issuer lowered the assurance level since this authentication';
      reasons.push({ signal: this.name, score, reason, event: 'authn_step_up_required' });
    }
    if (compliance?.endsWith(' not-compliant')) {
      const score = this.options.continuousAccess?.sharedSignals?.nonCompliantDeviceScore ?? 100;
      const reason = 'the issuer reports the device as not compliant';
      reasons.push({ signal: this.name, score, reason, event: 'session_device_mismatch' });
    }
    return reasons;
  }
}
