import { SetMetadata } from '@nestjs/common';
import type { Principal } from '../identity/principal.interface.js';
import type { ResolvedRiskOptions } from '../options/validate-options.js';
import { RISK_POLICY_KEY, type RiskPolicyOptions } from '../routes/decorators.js';
import type { RiskAssessment, RiskVerdict } from './risk.types.js';

export type { RiskPolicyOptions };

/** Sets the risk policy of a controller or handler (a handler's fields override). @publicApi */
export function RiskPolicy(policy: RiskPolicyOptions): MethodDecorator & ClassDecorator {
  const { maxScore, stepUpAbove, maxAuthAge, acr } = policy;
  for (const [key, value] of Object.entries({ maxScore, stepUpAbove }))
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= 100))
      throw new TypeError(`@RiskPolicy: ${key} must be a number from 0 to 100`);
  if (maxAuthAge !== undefined && !(Number.isInteger(maxAuthAge) && maxAuthAge > 0))
    throw new TypeError('@RiskPolicy: maxAuthAge must be a positive integer (seconds)');
  if (acr !== undefined && !/^[^"\\]+$/.test(acr))
    throw new TypeError('@RiskPolicy: acr must be a non-empty string without quotes');
  return SetMetadata(RISK_POLICY_KEY, { ...policy });
}

/**
 * Deny above `maxScore`; above `stepUpAbove` (always when only `acr`/`maxAuthAge` are set) step
 * up to `acr` and `maxAge` unless the token shows them already (a service cannot: denied). @internal
 */
export function decideRisk(
  assessment: RiskAssessment,
  policy: RiskPolicyOptions,
  options: ResolvedRiskOptions,
  principal: Principal,
  now: Date,
): { verdict: RiskVerdict; acr: string | undefined; maxAge: number } {
  const acr = policy.acr ?? options.stepUp.acr;
  const maxAge = policy.maxAuthAge ?? options.stepUp.maxAge;
  const decision = (verdict: RiskVerdict) => ({ verdict, acr, maxAge });
  if (assessment.score > (policy.maxScore ?? options.denyAbove)) return decision('deny');
  const always = policy.acr !== undefined || policy.maxAuthAge !== undefined;
  if (assessment.score <= (policy.stepUpAbove ?? (always ? -1 : options.stepUpAbove)))
    return decision('allow');
  const { kind, token } = principal;
  if (kind !== 'user') return decision('deny');
  const authAge = now.getTime() / 1000 - (token.authTime ?? -Infinity);
  return decision(
    (acr === undefined || token.acr === acr) && authAge <= maxAge ? 'allow' : 'step-up',
  );
}
