// The decision-point seam: every export is public.
export * from './decision-point.js';
export { PolicyService } from './policy.service.js';
export { CaslDecisionPoint } from './casl-decision-point.js';
