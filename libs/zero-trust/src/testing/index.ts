/**
 * `nestjs-zero-trust/testing`: build abilities from your definitions, assert on them, and
 * sign tokens with a local issuer in your own end-to-end tests.
 *
 * @packageDocumentation
 */
export {
  abilityFor,
  AbilityAssertionError,
  createTestPrincipal,
  expectAbility,
} from './ability-testing.js';
export {
  renderPermissionMatrix,
  type MatrixPrincipal,
  type PermissionMatrixOptions,
} from './permission-matrix.js';
export {
  TestIssuer,
  type SignOptions,
  type TestIssuerAlgorithm,
  type TestIssuerOptions,
} from './test-issuer.js';
export {
  TestCertificateAuthority,
  type ClientCertificateOptions,
  type TestCertificate,
} from './test-certificate-authority.js';
export {
  createDpopKey,
  createDpopProof,
  jwkThumbprint,
  type DpopKey,
  type DpopProofOptions,
} from './dpop-proof.js';
export { subject } from '@casl/ability';
export { createRiskSignalInput, type RiskSignalInputOptions } from './risk-testing.js';
