import { createHash, createPublicKey, verify } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';

import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import { DpopSigner } from './dpop-signer.js';
import { ServiceTokenClient } from './service-token-client.js';
import { SessionRefresher } from './session-refresher.js';
import { basicAuthorization } from './token-endpoint.js';
import { ZeroTrustClientModule } from './zero-trust-client.module.js';

const OPTIONS = { issuer: 'https://idp.example.com', clientId: 'svc', clientSecret: 's3cret' };

function part(jwt: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[index] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

describe('DpopSigner', () => {
  it('signs an RFC 9449 proof that verifies with the embedded public key', () => {
    const signer = new DpopSigner();
    const proof = signer.proof('post', 'https://api.example.com/pay?x=1#f', {
      accessToken: 'token-value',
      nonce: 'n-1',
      now: 1_700_000_000_000,
    });
    const header = part(proof, 0);
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(header.jwk).not.toHaveProperty('d');
    expect(part(proof, 1)).toMatchObject({
      htm: 'POST',
      htu: 'https://api.example.com/pay',
      iat: 1_700_000_000,
      nonce: 'n-1',
      ath: createHash('sha256').update('token-value').digest('base64url'),
    });
    const [h, p, s] = proof.split('.');
    const key = createPublicKey({ key: header.jwk as never, format: 'jwk' });
    expect(
      verify(
        'sha256',
        Buffer.from(`${h}.${p}`),
        { key, dsaEncoding: 'ieee-p1363' },
        Buffer.from(s ?? '', 'base64url'),
      ),
    ).toBe(true);
    // RFC 7638 thumbprint of the same key
    const jwk = header.jwk as Record<string, string>;
    const canonical = `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
    expect(signer.thumbprint).toBe(createHash('sha256').update(canonical).digest('base64url'));
    expect(part(signer.proof('GET', 'https://a.example/'), 1).jti).not.toBe(part(proof, 1).jti);
  });
});

describe('basicAuthorization', () => {
  it('form-encodes id and secret before Base64 (RFC 6749 §2.3.1)', () => {
    const value = basicAuthorization('a:b', 'p w%');
    expect(Buffer.from(value.slice(6), 'base64').toString()).toBe('a%3Ab:p+w%25');
  });
});

describe('ServiceTokenClient', () => {
  it('refuses an audience that is not an absolute URI without fragment', async () => {
    const client = new ServiceTokenClient(OPTIONS);
    await expect(client.getToken('not a uri')).rejects.toThrow(TypeError);
    await expect(client.getToken('https://api.example.com#x')).rejects.toThrow(TypeError);
    await client.close();
  });

  it('requires an issuer or token endpoint and a credential', () => {
    let error: unknown;
    try {
      expect(new ServiceTokenClient({ clientId: 'svc' })).toBeUndefined();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ZeroTrustConfigurationError);
    expect((error as ZeroTrustConfigurationError).problems).toEqual([
      'issuer (for discovery) or tokenEndpoint is required',
      'client_secret_basic needs clientSecret (or give tls for tls_client_auth)',
    ]);
  });
});

describe('SessionRefresher', () => {
  it('waits for a token that lives longer than a timer can (no refresh loop)', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = new SessionRefresher({
      tokenEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
      clientId: 'cli',
      tokens: { access_token: 'a', refresh_token: 'r', expires_in: 100_000_000 }, // ~3 years
    });
    try {
      session.start();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(requests).toBe(0);
      expect(session.ended).toBe(false);
    } finally {
      await session.close();
      server.close();
    }
  });
});

describe('ZeroTrustClientModule', () => {
  @Injectable()
  class Settings {
    readonly clientId = 'from-factory';
  }
  @Module({ providers: [Settings], exports: [Settings] })
  class SettingsModule {}

  it('provides a ServiceTokenClient with register and registerAsync', async () => {
    const plain = await Test.createTestingModule({
      imports: [ZeroTrustClientModule.register(OPTIONS)],
    }).compile();
    expect(plain.get(ServiceTokenClient)).toBeInstanceOf(ServiceTokenClient);
    await plain.close();

    const factory = await Test.createTestingModule({
      imports: [
        ZeroTrustClientModule.registerAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({ ...OPTIONS, clientId: settings.clientId }),
        }),
      ],
    }).compile();
    expect(factory.get(ServiceTokenClient)).toBeInstanceOf(ServiceTokenClient);
    await factory.close();
  });

  it('stops the boot on bad options', async () => {
    await expect(
      Test.createTestingModule({
        imports: [ZeroTrustClientModule.register({ clientId: '' })],
      }).compile(),
    ).rejects.toThrow(ZeroTrustConfigurationError);
  });
});
