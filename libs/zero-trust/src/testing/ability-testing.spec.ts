import { describe, expect, it } from 'vitest';
import type { AbilityDefinitions } from '../authorization/ability.types.js';
import {
  AbilityAssertionError,
  abilityFor,
  createTestPrincipal,
  expectAbility,
} from './ability-testing.js';
import { subject } from '@casl/ability';

const definitions: AbilityDefinitions = {
  user: (principal, env, { can }) => {
    can('read', 'Doc', { ownerId: principal.id });
    if (env.time.getUTCHours() < 12) can('update', 'Doc', ['title'], { ownerId: principal.id });
  },
};

describe('testing kit', () => {
  it('builds abilities from app definitions, with the env a test gives', async () => {
    const principal = createTestPrincipal({ id: 'u1' });
    const morning = await abilityFor(definitions, principal, {
      time: new Date('2026-01-01T08:00:00Z'),
    });
    const evening = await abilityFor(definitions, principal, {
      time: new Date('2026-01-01T20:00:00Z'),
    });
    const doc = subject('Doc', { ownerId: 'u1' });
    expectAbility(morning).toAllow('update', doc, 'title');
    expectAbility(evening).toDeny('update', doc, 'title');
  });

  it('fails with a message naming the action, subject and field', async () => {
    const ability = await abilityFor(definitions, createTestPrincipal({ id: 'u1' }));
    const doc = subject('Doc', { ownerId: 'u2' });
    expect(() => expectAbility(ability).toAllow('read', doc)).toThrow(AbilityAssertionError);
    expect(() => expectAbility(ability).toAllow('read', doc)).toThrow(
      'expected the ability to allow read Doc {"ownerId":"u2"}, but it denies it',
    );
    expect(() => expectAbility(ability).toDeny('read', 'Doc')).toThrow(
      'expected the ability to deny read Doc, but it allows it',
    );
  });

  it('creates principals with a short-lived token by default', () => {
    const principal = createTestPrincipal({ kind: 'service', id: 'svc' });
    expect(principal).toMatchObject({ kind: 'service', id: 'svc', subject: 'svc', roles: [] });
    expect(principal.token.exp - principal.token.iat).toBe(900);
  });
});

describe('async ability definitions', () => {
  it('awaits a definition that loads permissions', async () => {
    const grants = new Map([['u1', ['Doc']]]);
    const ability = await abilityFor(
      {
        user: async (principal, _env, { can }) => {
          const subjects = await Promise.resolve(grants.get(principal.id) ?? []);
          for (const type of subjects) can('read', type);
        },
      },
      createTestPrincipal({ id: 'u1' }),
    );
    expectAbility(ability).toAllow('read', 'Doc');
    expectAbility(ability).toDeny('read', 'Vault');
  });
});
