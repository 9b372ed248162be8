import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer } from './test-issuer.js';

/** The payload of a compact JWS, decoded. */
const payloadOf = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;

describe('TestIssuer claims option', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await TestIssuer.start({ claims: { scope: 'invoices:read', sub: 'ann' } });
  });
  afterAll(async () => {
    await issuer.close();
  });

  it('puts the claims in every token, under those given to sign', () => {
    expect(payloadOf(issuer.sign())).toMatchObject({ scope: 'invoices:read', sub: 'ann' });
    expect(payloadOf(issuer.sign({ scope: 'reports:read' }))).toMatchObject({
      scope: 'reports:read',
      sub: 'ann',
    });
  });

  it('leaves them out when sign omits them', () => {
    expect(payloadOf(issuer.sign({}, { omit: ['scope'] }))).not.toHaveProperty('scope');
  });
});
