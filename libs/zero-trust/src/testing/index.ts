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
  TestIssuer,
  type SignOptions,
  type TestIssuerAlgorithm,
  type TestIssuerOptions,
} from './test-issuer.js';
export { subject } from '@casl/ability';
