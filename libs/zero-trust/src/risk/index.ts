/**
 * `nestjs-zero-trust/risk`: your own risk signals, and the helpers the built-in ones use.
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
export { deviceFingerprint } from './signals/device.signal.js';
export { haversineKm, type GeoLocation, type GeoLocator } from './signals/geo-locator.js';
export {
  detectInjection,
  INJECTION_SCAN_LIMITS,
  type InjectionKind,
} from './signals/injection-rules.js';
export { inUtcWindow } from './signals/usage.signal.js';
