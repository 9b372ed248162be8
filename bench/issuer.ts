import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SigningMaterial } from './tokens.js';

/** A minimal local issuer: an OpenID discovery document and a JWKS with one ES256 key. */
export interface BenchIssuer {
  material: SigningMaterial;
  /** The public key as a PEM string, as the docs recipe's `secretOrKey` takes it. */
  publicKeyPem: string;
  close(): Promise<void>;
}

/** Starts the issuer on a random loopback port. */
export async function startIssuer(): Promise<BenchIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomUUID();
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  let url = '';
  const server: Server = createServer((req, res) => {
    const json = (body: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      json({ issuer: url, jwks_uri: `${url}/jwks`, token_endpoint: `${url}/token` });
    } else if (req.url === '/jwks') {
      json({ keys: [jwk] });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    material: {
      issuer: url,
      kid,
      privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    },
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
