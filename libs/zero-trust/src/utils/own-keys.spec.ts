import { describe, expect, it } from 'vitest';
import { validateOptions } from '../options/validate-options.js';
import { ownRecord, ownValue } from './own-keys.js';

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

describe('own keys', () => {
  it('reads only what a record holds itself, whatever the key is called', () => {
    const plain: Record<string, string> = { alice: '08:00-18:00' };
    for (const name of PROTOTYPE_NAMES) expect(ownValue(plain, name)).toBeUndefined();
    expect(ownValue(plain, 'alice')).toBe('08:00-18:00');
  });

  it('copies every key, __proto__ included, into a record without a prototype', () => {
    // JSON.parse makes `__proto__` an own key, as a computed key does.
    const source = JSON.parse(
      '{"__proto__":"a","constructor":"b","toString":"c","alice":"d"}',
    ) as Record<string, string>;
    const copy = ownRecord(source);
    expect(Object.getPrototypeOf(copy)).toBeNull();
    expect(copy['__proto__']).toBe('a');
    expect(copy['constructor']).toBe('b');
    expect(copy['toString']).toBe('c');
    expect(copy['alice']).toBe('d');
    expect(copy['valueOf']).toBeUndefined();
    expect(Object.keys(copy).sort()).toEqual(['__proto__', 'alice', 'constructor', 'toString']);
  });

  it('resolves option maps keyed by outside names as null-prototype records', () => {
    const options = validateOptions({
      issuer: 'https://issuer.test',
      audience: 'https://api.test',
      principals: {
        services: { constructor: { roles: ['a'] }, ['__proto__']: { roles: ['b'] } },
        integrations: { partner: {} },
      },
    });
    // Not "registered both as a service and as an integration": no inherited key is a client.
    expect(Object.keys(options.principals.services).sort()).toEqual(['__proto__', 'constructor']);
    expect(ownValue(options.principals.services, '__proto__')).toEqual({ roles: ['b'] });
    expect(ownValue(options.principals.integrations, 'toString')).toBeUndefined();
    const risk = validateOptions({
      issuer: 'https://issuer.test',
      audience: 'https://api.test',
      risk: {
        usage: { hours: { toString: '08:00-18:00', ['__proto__']: '09:00-17:00' } },
        network: { services: { valueOf: ['10.0.0.0/8'] } },
      },
    }).risk;
    const hours = risk.usage?.hours ?? {};
    const networks = risk.network?.services ?? {};
    expect(hours['constructor']).toBeUndefined();
    expect(hours['toString']).toBe('08:00-18:00');
    expect(ownValue(hours, '__proto__')).toBe('09:00-17:00');
    expect(Object.getPrototypeOf(hours)).toBeNull();
    expect(networks['hasOwnProperty']).toBeUndefined();
  });

  it('lists an option named like an Object.prototype member as unknown', () => {
    expect(() =>
      validateOptions({
        issuer: 'https://issuer.test',
        audience: 'https://api.test',
        risk: { usage: { constructor: 1 }, failures: { toString: 2 } },
      }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          'unknown option "risk.usage.constructor"',
          'unknown option "risk.failures.toString"',
        ],
      }),
    );
  });
});
