/**
 * `nestjs-zero-trust/throttler`: rate limits per principal with `@nestjs/throttler` (an optional
 * peer dependency, hence its own entry point).
 * @packageDocumentation
 */
export { SharedStateThrottlerStorage } from './shared-state-throttler.storage.js';
export {
  ZeroTrustThrottlerGuard,
  ZeroTrustThrottlerModule,
  zeroTrustTracker,
} from './zero-trust-throttler.guard.js';
