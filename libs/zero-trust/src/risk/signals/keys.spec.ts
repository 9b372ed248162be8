import { describe, expect, it } from 'vitest';
import { principalKey } from './built-in.js';

describe('risk store keys', () => {
  const alice = { kind: 'user' as const, id: 'alice' };

  it('names the signal, the principal and the suffix, with the id encoded', () => {
    expect(principalKey('device', alice)).toBe('zt:risk:device:user:alice');
    expect(principalKey('usage', alice, 'm42')).toBe('zt:risk:usage:user:alice:m42');
    expect(principalKey('geo', { kind: 'service', id: 'a:b/c' })).toBe(
      'zt:risk:geo:service:a%3Ab%2Fc',
    );
  });

  it('keeps principals of different kinds, and ids that differ by a separator, apart', () => {
    const keys = new Set([
      principalKey('device', alice),
      principalKey('device', { kind: 'service', id: 'alice' }),
      principalKey('device', { kind: 'user', id: 'alice:seen' }),
      principalKey('device', alice, 'seen'),
    ]);
    expect(keys.size).toBe(4);
  });
});
