/**
 * Settings of the demo API, read from the environment by `main.ts`.
 */
export interface DemoConfig {
  /** The OpenID Connect issuer (the demo IdP). */
  issuer: string;
  /** The API's audience (resource indicator). */
  audience: string;
  /** `express` (default) or `fastify`. */
  adapter: 'express' | 'fastify';
  /** Authorization mode of the whole API. */
  mode: 'enforce' | 'report-only';
}

/** Default audience of the demo API. */
export const DEMO_API_AUDIENCE = 'https://invoices.demo.local';

/** Reads the demo configuration from environment variables, refusing unknown values. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const adapter = env.HTTP_ADAPTER ?? 'express';
  if (adapter !== 'express' && adapter !== 'fastify')
    throw new Error('HTTP_ADAPTER must be "express" or "fastify"');
  const mode = env.AUTHZ_MODE ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'report-only')
    throw new Error('AUTHZ_MODE must be "enforce" or "report-only"');
  return {
    issuer: env.IDP_URL ?? `http://127.0.0.1:${env.IDP_PORT ?? '4000'}`,
    audience: env.API_AUDIENCE ?? DEMO_API_AUDIENCE,
    adapter,
    mode,
  };
}
