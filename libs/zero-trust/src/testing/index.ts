/**
 * `nestjs-zero-trust/testing`: build abilities from your definitions, assert on them, and
 * sign tokens with a local issuer in your own end-to-end tests.
 *
 * @packageDocumentation
 */
// Every export of these files is public.
export * from './ability-testing.js';
export * from './permission-matrix.js';
export * from './test-certificate-authority.js';
export * from './dpop-proof.js';
export * from './risk-testing.js';
export {
  TestIssuer,
  type SignOptions,
  type TestIssuerAlgorithm,
  type TestIssuerOptions,
} from './test-issuer.js';
export { subject } from '@casl/ability';
export * from '../policy/decision-testing.js';
