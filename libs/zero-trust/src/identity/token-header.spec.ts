import { describe, expect, it } from 'vitest';
import { validateOptions } from '../options/validate-options.js';
import { checkToken } from './token-header.js';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const options = validateOptions({ issuer: 'https://idp.example.com', audience: 'a' });
const legacy = validateOptions({
  issuer: 'https://idp.example.com',
  audience: 'a',
  tokenTypes: ['at+jwt', 'JWT', ''],
});
const token = (header: unknown): string => `${b64(header)}.${b64({})}.c2ln`;

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('checkToken', () => {
  it('returns alg and kid of an acceptable header', () => {
    expect(checkToken(token({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' }), options)).toEqual({
      alg: 'ES256',
      kid: 'k1',
    });
    expect(checkToken(token({ alg: 'RS256', typ: 'application/AT+JWT' }), options)).toEqual({
      alg: 'RS256',
      kid: undefined,
    });
  });

  it.each([
    ['a header that is an array', ['ES256'], 'ZT_TOKEN_MALFORMED'],
    ['a header that is null', null, 'ZT_TOKEN_MALFORMED'],
    ['a numeric kid', { alg: 'ES256', kid: 7, typ: 'at+jwt' }, 'ZT_TOKEN_MALFORMED'],
    ['an empty kid', { alg: 'ES256', kid: '', typ: 'at+jwt' }, 'ZT_TOKEN_MALFORMED'],
    ['b64 unencoded payloads', { alg: 'ES256', b64: false, typ: 'at+jwt' }, 'ZT_TOKEN_MALFORMED'],
    ['a missing alg', { typ: 'at+jwt' }, 'ZT_TOKEN_ALGORITHM_REJECTED'],
    ['HS256', { alg: 'HS256', typ: 'at+jwt' }, 'ZT_TOKEN_ALGORITHM_REJECTED'],
    ['EdDSA (not verifiable here)', { alg: 'EdDSA', typ: 'at+jwt' }, 'ZT_TOKEN_ALGORITHM_REJECTED'],
    ['a non-string typ', { alg: 'ES256', typ: 1 }, 'ZT_TOKEN_TYPE_INVALID'],
    ['an ID token type', { alg: 'ES256', typ: 'JWT' }, 'ZT_TOKEN_TYPE_INVALID'],
    ['a JWT-SVID / no typ', { alg: 'ES256' }, 'ZT_TOKEN_TYPE_INVALID'],
  ])('refuses %s', (_name, header, code) => {
    expect(codeOf(() => checkToken(token(header), options))).toBe(code);
  });

  it('refuses time claims that are not numbers', () => {
    const header = b64({ alg: 'ES256', typ: 'at+jwt' });
    for (const claims of [
      { exp: 'never' },
      { iat: '1800000000' },
      { nbf: null },
      { auth_time: {} },
    ])
      expect(codeOf(() => checkToken(`${header}.${b64(claims)}.c2ln`, options))).toBe(
        'ZT_TOKEN_CLAIM_INVALID',
      );
    expect(codeOf(() => checkToken(`${header}.${b64([1])}.c2ln`, options))).toBe(
      'ZT_TOKEN_MALFORMED',
    );
  });

  it('accepts legacy types only when configured', () => {
    expect(codeOf(() => checkToken(token({ alg: 'ES256', typ: 'JWT' }), legacy))).toBeUndefined();
    expect(codeOf(() => checkToken(token({ alg: 'ES256' }), legacy))).toBeUndefined();
  });

  it('refuses characters outside base64url and an empty signature', () => {
    expect(
      codeOf(() => checkToken(`${b64({ alg: 'ES256', typ: 'at+jwt' })}.e30.a+b/c=`, options)),
    ).toBe('ZT_TOKEN_MALFORMED');
    expect(codeOf(() => checkToken(`${b64({ alg: 'ES256', typ: 'at+jwt' })}.e30.`, options))).toBe(
      'ZT_TOKEN_SIGNATURE_INVALID',
    );
  });

  it('judges a remembered header again under other options, and the rest of the token each time', () => {
    const header = { alg: 'ES256', kid: 'k1', typ: 'JWT' };
    // Accepted (and remembered) under options that allow typ JWT ...
    expect(checkToken(token(header), legacy)).toEqual({ alg: 'ES256', kid: 'k1' });
    expect(checkToken(token(header), legacy)).toEqual({ alg: 'ES256', kid: 'k1' });
    // ... still refused under options that do not.
    expect(codeOf(() => checkToken(token(header), options))).toBe('ZT_TOKEN_TYPE_INVALID');
    // The same accepted header with an empty signature, or a payload outside base64url.
    expect(codeOf(() => checkToken(`${b64(header)}.${b64({})}.`, legacy))).toBe(
      'ZT_TOKEN_SIGNATURE_INVALID',
    );
    expect(codeOf(() => checkToken(`${b64(header)}.e30=.c2ln`, legacy))).toBe('ZT_TOKEN_MALFORMED');
  });
});
