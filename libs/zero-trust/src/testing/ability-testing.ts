import { randomUUID } from 'node:crypto';
import { buildAbility } from '../authorization/ability.factory.js';
import type {
  AbilityDefinitions,
  AbilityEnv,
  ZeroTrustAbility,
} from '../authorization/ability.types.js';
import { detectSubjectType } from '../authorization/subject.js';
import type { Principal } from '../identity/principal.interface.js';

/** A test {@link Principal}: by default user `test-user`, no roles, 15-minute token. @publicApi */
export function createTestPrincipal(
  overrides: Partial<Omit<Principal, 'token'>> & { token?: Partial<Principal['token']> } = {},
): Principal {
  const now = Math.floor(Date.now() / 1000);
  const id = overrides.id ?? 'test-user';
  return {
    kind: 'user',
    subject: overrides.subject ?? id,
    issuer: 'https://issuer.test.local',
    roles: [],
    scopes: [],
    attributes: {},
    ...overrides,
    id,
    token: { jti: randomUUID(), iat: now, exp: now + 900, ...overrides.token },
  };
}

/** The ability of `principal` from your app's definitions, as the guard builds it. @publicApi */
export async function abilityFor(
  definitions: AbilityDefinitions,
  principal: Principal,
  env: Partial<AbilityEnv> = {},
): Promise<ZeroTrustAbility> {
  const full: AbilityEnv = { time: new Date(), ip: '127.0.0.1', requestId: 'test', ...env };
  return (await buildAbility(definitions, principal, full)).ability;
}

/** Thrown by {@link expectAbility}; named so test runners report a failed assertion. @publicApi */
export class AbilityAssertionError extends Error {
  override readonly name = 'AssertionError';
}

function describeSubject(subject: string | object): string {
  if (typeof subject === 'string') return subject;
  const type = detectSubjectType(subject);
  const name = typeof type === 'string' ? type : type.name;
  return `${name} ${JSON.stringify(subject)}`;
}

/** Assertions on an ability that read like the policy; they throw (any test runner). @publicApi */
export function expectAbility(ability: ZeroTrustAbility): {
  toAllow(action: string, subject: string | object, field?: string): void;
  toDeny(action: string, subject: string | object, field?: string): void;
} {
  const check =
    (expected: boolean) =>
    (action: string, subject: string | object, field?: string): void => {
      const actual = ability.can(action, subject as string, field);
      if (actual === expected) return;
      const what = `${action} ${describeSubject(subject)}${field ? ` (field "${field}")` : ''}`;
      throw new AbilityAssertionError(
        `expected the ability to ${expected ? 'allow' : 'deny'} ${what}, but it ${actual ? 'allows' : 'denies'} it`,
      );
    };
  return { toAllow: check(true), toDeny: check(false) };
}
