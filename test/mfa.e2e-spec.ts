import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginWithPassword } from '../apps/identity/src/client.js';
import { DEMO_MFA_ACR, DEMO_TOTP_SECRETS } from '../apps/identity/src/constants.js';
import { call, startDemoApi, type RunningApi } from './support/demo-api.js';
import { startTestIdentityProvider, type TestIdentityProvider } from './support/identity.js';

describe('TOTP second factor at the demo IdP', () => {
  let idp: TestIdentityProvider;
  let api: RunningApi;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    api = await startDemoApi({ issuer: idp.issuer });
  });
  afterAll(async () => {
    await api?.close();
    await idp?.stop();
  });

  it('raises acr to mfa and amr to pwd+otp in the access token (demo:token -- carol --mfa)', async () => {
    const token = await idp.userToken('carol', { mfa: true });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: 'carol', acr: DEMO_MFA_ACR, amr: ['pwd', 'otp'] });
    expect(Math.abs(Number(claims.auth_time) - Date.now() / 1000)).toBeLessThan(60);
    const me = await call(api, 'GET', '/me', { token });
    expect(me.status).toBe(200);
    expect(me.body.token).toMatchObject({ acr: DEMO_MFA_ACR, amr: ['pwd', 'otp'] });
  });

  it('keeps a password-only login at the password level', async () => {
    const claims = decodeJwt(await idp.userToken('alice'));
    expect(claims).toMatchObject({ acr: 'urn:demo:acr:password', amr: ['pwd'] });
  });

  it('refuses a wrong one-time code', async () => {
    await expect(
      loginWithPassword({
        issuer: idp.issuer,
        username: 'bob',
        password: 'bob',
        totpSecret: DEMO_TOTP_SECRETS.alice,
      }),
    ).rejects.toThrow('Invalid one-time code');
  });
});
