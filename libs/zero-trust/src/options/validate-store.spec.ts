import { describe, expect, it } from 'vitest';
import { MemoryRevocationStore } from '../stores/memory/memory-revocation.store.js';
import { validateStore } from './validate-store.js';

const fakeClient = Object.fromEntries(
  ['eval', 'mget', 'multi', 'set', 'get', 'ping', 'on'].map((m) => [m, () => undefined]),
);

function check(value: unknown): { result: ReturnType<typeof validateStore>; problems: string[] } {
  const problems: string[] = [];
  return { result: validateStore(value, problems), problems };
}

describe('validateStore', () => {
  it('defaults to memory, and keeps custom stores', () => {
    expect(check(undefined)).toEqual({
      result: {
        type: 'memory',
        limits: { replay: 100_000, revocations: 100_000, principals: 100_000, addresses: 50_000 },
      },
      problems: [],
    });
    const revocations = new MemoryRevocationStore();
    expect(check({ type: 'custom', revocations }).result).toMatchObject({ type: 'custom' });
  });

  it('takes memory budgets, and lists every bad one', () => {
    expect(check({ type: 'memory', limits: { replay: 10, addresses: 5 } }).result).toEqual({
      type: 'memory',
      limits: { replay: 10, revocations: 100_000, principals: 100_000, addresses: 5 },
    });
    expect(
      check({ type: 'memory', limits: { replay: 0, principal: 3, revocations: 1.5 }, max: 1 })
        .problems,
    ).toEqual([
      'store.max is not a memory store option',
      'store.limits.replay must be a positive integer (entries)',
      'store.limits.principal is not a limit (replay, revocations, principals, addresses)',
      'store.limits.revocations must be a positive integer (entries)',
    ]);
  });

  it('applies Redis defaults: fail closed, zt: prefix, bounded timeouts', () => {
    const { result, problems } = check({ type: 'redis', url: 'redis://127.0.0.1:6379/1' });
    expect(problems).toEqual([]);
    expect(result).toEqual({
      type: 'redis',
      url: 'redis://127.0.0.1:6379/1',
      client: undefined,
      keyPrefix: 'zt:',
      commandTimeout: 500,
      connectTimeout: 2000,
      failOpen: { revocation: false, state: false },
    });
    const custom = check({
      type: 'redis',
      client: fakeClient,
      keyPrefix: 'billing:',
      failOpen: { state: true },
    });
    expect(custom.problems).toEqual([]);
    expect(custom.result).toMatchObject({
      keyPrefix: 'billing:',
      failOpen: { revocation: false, state: true },
    });
  });

  it('lists every problem without echoing values', () => {
    const secret = 'redis://:hunter2@db.example';
    const { problems } = check({
      type: 'redis',
      url: `${secret}:not-a-port`,
      client: {},
      keyPrefix: 3,
      commandTimeout: -1,
      failOpen: { revocation: 'yes', audit: true },
      extra: 1,
    });
    expect(problems).toEqual([
      'store.extra is not a Redis store option',
      'store needs either "url" or "client" for type "redis"',
      'store.url must be a redis:// or rediss:// URL',
      'store.client must be an ioredis client',
      'store.keyPrefix must be a string',
      'store.commandTimeout must be a positive integer (milliseconds)',
      'store.failOpen.revocation must be a boolean',
      'store.failOpen.audit is not a concern (revocation, state)',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(check({ type: 'redis' }).problems).toEqual([
      'store needs either "url" or "client" for type "redis"',
    ]);
    expect(check({ type: 'redis', url: 'http://127.0.0.1' }).problems).toEqual([
      'store.url must be a redis:// or rediss:// URL',
    ]);
    expect(check({ type: 'disk' }).problems).toEqual([
      'store.type must be "memory", "redis" or "custom"',
    ]);
    expect(check({ type: 'custom', revocations: {} }).problems).toHaveLength(1);
  });
});
