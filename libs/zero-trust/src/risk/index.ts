/**
 * `nestjs-zero-trust/risk`: write your own risk signal (`RiskSignal`, registered in the
 * module's `risk.signals` or with `@RiskSignalProvider()`), plus the helpers the built-in
 * signals use. The `@RiskPolicy` decorator is on the root entry.
 *
 * @packageDocumentation
 */
export {
  combineScores,
  type RiskAssessment,
  type RiskOutcome,
  type RiskReason,
  type RiskSignal,
  type RiskSignalInput,
  type RiskVerdict,
} from './risk.types.js';
export { RiskEngine, RiskSignalProvider } from './risk.engine.js';
export type { RiskDecision } from './risk-policy.js';
export { deviceFingerprint } from './signals/device.signal.js';
export { haversineKm, type GeoLocation, type GeoLocator } from './signals/geo-locator.js';
export {
  detectInjection,
  INJECTION_SCAN_LIMITS,
  type InjectionKind,
} from './signals/injection-rules.js';
export { inUtcWindow } from './signals/usage.signal.js';
