// `npm run bench -- --micro` runs this: what importing the issuer's key once buys on a token
// never seen before. jsonwebtoken (behind passport-jwt) verifies one ES256 token with the key
// as a PEM string (the docs recipe: the key is parsed on every request) and as a KeyObject
// imported once (this library). Then the risk assessment and the audit trail of one warm
// request, in process.
import { createPublicKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startIssuer } from './issuer.js';
import { microAudit } from './micro-audit.js';
import { microRisk } from './micro-risk.js';
import { BENCH_AUDIENCE, TokenSigner } from './tokens.js';

function perOperation(run: () => void, iterations: number): number {
  for (let i = 0; i < Math.min(iterations, 2000); i += 1) run();
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) run();
  return Number(process.hrtime.bigint() - started) / iterations / 1000;
}

/**
 * Prints microseconds per verification (PEM string vs imported KeyObject), then per warm
 * request for the risk assessment and for the audit trail.
 */
export async function micro(smoke = false): Promise<void> {
  // The smoke (CI) only checks that every micro-benchmark still runs: its figures mean nothing.
  const iterations = smoke ? 200 : 20_000;
  const issuer = await startIssuer();
  try {
    const token = new TokenSigner(issuer.material).sign();
    const pem = issuer.publicKeyPem;
    const key = createPublicKey(pem);
    const options = { audience: BENCH_AUDIENCE, algorithms: ['ES256' as const] };
    const withPem = perOperation(() => jwt.verify(token, pem, options), iterations);
    const withKey = perOperation(() => jwt.verify(token, key, options), iterations);
    const importOnly = perOperation(() => createPublicKey(pem), iterations);
    console.log(
      [
        '| jsonwebtoken.verify, one ES256 token | µs per verification |',
        '|---|---:|',
        `| key as a PEM string (docs recipe) | ${withPem.toFixed(1)} |`,
        `| key imported once as a KeyObject | ${withKey.toFixed(1)} |`,
        `| createPublicKey(pem) alone | ${importOnly.toFixed(1)} |`,
      ].join('\n'),
    );
  } finally {
    await issuer.close();
  }
  const risk = smoke ? await microRisk(500, 1) : await microRisk();
  const audit = smoke ? await microAudit(500, 1) : await microAudit();
  console.log(
    [
      '',
      '| one warm request in process (demo settings) | µs per request |',
      '|---|---:|',
      `| risk: assessment (the demo's signals) and learning, in-memory store | ${risk.toFixed(1)} |`,
      `| audit: the decision record of an allowed request, one ECS line through the pino sink | ${audit.toFixed(1)} |`,
    ].join('\n'),
  );
}
