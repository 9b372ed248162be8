import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import { validateClientOptions } from './validate-client-options.js';

const BASE = { issuer: 'https://idp.example.com', clientId: 'svc', clientSecret: 's3cret' };

function problemsOf(options: unknown): readonly string[] {
  try {
    validateClientOptions(options);
    return [];
  } catch (error) {
    if (error instanceof ZeroTrustConfigurationError) return error.problems;
    throw error;
  }
}

describe('validateClientOptions', () => {
  it('applies defaults, in milliseconds, and passes keys and clocks through', () => {
    const options = validateClientOptions(BASE);
    expect(options).toMatchObject({
      authMethod: 'client_secret_basic',
      refreshSkewMs: 30_000,
      timeoutMs: 10_000,
      dpop: false,
    });
    expect(options.clock).toBe(Date.now);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const clock = () => 0;
    const custom = validateClientOptions({ ...BASE, dpop: { privateKey }, clock, timeout: 0.5 });
    expect(custom.dpop).toBe(privateKey);
    expect(custom.clock).toBe(clock);
    expect(custom.timeoutMs).toBe(500);
  });

  it('keeps scopes of any audience name in a null-prototype record', () => {
    const scopes = JSON.parse('{"__proto__":"a","https://api.example.com":"b"}') as Record<
      string,
      string
    >;
    const resolved = validateClientOptions({ ...BASE, scopes }).scopes;
    expect(Object.getPrototypeOf(resolved)).toBeNull();
    expect(Object.keys(resolved).sort()).toEqual(['__proto__', 'https://api.example.com']);
    expect(resolved['constructor']).toBeUndefined();
  });

  it('lists every problem, unknown keys of nested objects too, never echoing values', () => {
    const problems = problemsOf({
      ...BASE,
      tokenEndpoint: 'https://user:secret-value@idp.example.com/token',
      scopes: { a: 1 },
      dpop: { privateKey: 'secret-value' },
      tls: { key: 'secret-value', cert: '', passphrase: 'secret-value' },
      clock: 1,
    });
    expect(problems).toEqual([
      'tokenEndpoint must not carry credentials, a query or a fragment',
      'tls.cert must be a PEM string or Buffer',
      'unknown option "tls.passphrase"',
      'tls.key is not a readable private key',
      'scopes.a must be a string',
      'dpop.privateKey must be a P-256 private KeyObject',
      'clock must be a function returning ms',
    ]);
    expect(problems.join('\n')).not.toContain('secret-value');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    expect(problemsOf({ ...BASE, dpop: { privateKey: p384 } })).toEqual([
      'dpop.privateKey must be a P-256 private KeyObject',
    ]);
    expect(problemsOf('options')).toEqual(['the options must be an object']);
  });
});
