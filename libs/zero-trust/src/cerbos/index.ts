/**
 * `nestjs-zero-trust/cerbos`: Cerbos as the policy decision point of `@Can` (needs a client from
 * the optional peer `@cerbos/grpc` or `@cerbos/http`; the health indicator needs `@nestjs/terminus`).
 * @packageDocumentation
 */
export { CerbosModule, type CerbosModuleAsyncOptions } from './cerbos.module.js';
export { CerbosDecisionPoint } from './cerbos-decision-point.js';
export { CerbosHealthIndicator } from './cerbos.health.js';
export {
  validateCerbosOptions,
  type CerbosOptions,
  type ResolvedCerbosOptions,
} from './cerbos-options.js';
export type * from './cerbos-client.js';
export { planToCondition, UnsupportedPlanError, type CerbosPlanOperand } from './query-plan.js';
export { startCerbosPdp, type CerbosPdp, type CerbosPdpOptions } from './cerbos-pdp.js';
