import { describe, expect, it } from 'vitest';
import { buildAbility } from '../authorization/ability.factory.js';
import type { AbilityDefinitions, AbilityEnv } from '../authorization/ability.types.js';
import { createRiskSignalInput, createTestPrincipal } from '../testing/index.js';
import { lazyEnv, type AbilityEnvSource } from './lazy-env.js';

function source(values: Record<string, unknown>) {
  const counter = { loads: 0 };
  const lazy: AbilityEnvSource = {
    keys: Object.keys(values),
    load: () => {
      counter.loads++;
      return Promise.resolve(values);
    },
  };
  return { lazy, counter };
}

describe('lazy env values', () => {
  const principal = createTestPrincipal({ roles: ['admin'] });
  const { context } = createRiskSignalInput({ now: new Date('2026-03-02T09:00:00Z') });
  const base = { time: context.time, ip: context.ip, requestId: context.requestId };
  const definitions: AbilityDefinitions = {
    user: (_p, env, { can }) => {
      if ((env.risk ?? 100) <= 20) can('read', 'Report');
    },
  };

  it('loads a source only when a definition reads one of its keys, then runs it again', async () => {
    const { lazy, counter } = source({ risk: 10, country: 'FR' });
    const env: AbilityEnv = lazyEnv(base, [lazy], {}, context);
    const built = await buildAbility(definitions, principal, env);
    expect(counter.loads).toBe(1);
    expect(built.readsEnv).toBe(true);
    expect(built.ability.can('read', 'Report')).toBe(true);
    expect(env.country).toBe('FR');
    expect(counter.loads).toBe(1);
  });

  it('never loads for a definition that ignores the keys', async () => {
    const { lazy, counter } = source({ risk: 99 });
    const env: AbilityEnv = lazyEnv(base, [lazy], {}, context);
    const built = await buildAbility(
      {
        user: (_p, _e, { can }) => {
          can('read', 'Me');
        },
      },
      principal,
      env,
    );
    expect(counter.loads).toBe(0);
    expect(built.readsEnv).toBe(false);
  });

  it('applies the loaded value: a high score leaves the rule out', async () => {
    const { lazy } = source({ risk: 80 });
    const built = await buildAbility(definitions, principal, lazyEnv(base, [lazy], {}, context));
    expect(built.ability.can('read', 'Report')).toBe(false);
  });
});
