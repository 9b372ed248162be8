import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADAPTERS,
  call,
  startDemoApi,
  startDemoIssuer,
  type RunningApi,
} from './support/demo-api.js';
import { getFrom } from './support/http-from.js';

describe.each(ADAPTERS)('rate limits per principal and security headers (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;
  const limit = 3;

  beforeAll(async () => {
    issuer = await startDemoIssuer();
    api = await startDemoApi({ issuer: issuer.url, adapter, rateLimitPerMinute: limit });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  const tokenOf = (sub: string): string => issuer.sign({ sub, roles: ['customer'] });

  it('counts two principals from one address separately', async () => {
    const [dave, erin] = [tokenOf('dave'), tokenOf('erin')];
    for (let i = 0; i < limit; i += 1) {
      expect((await getFrom(`${api.url}/me`, '127.0.0.2', dave)).status).toBe(200);
      expect((await getFrom(`${api.url}/me`, '127.0.0.2', erin)).status).toBe(200);
    }
    const refused = await getFrom(`${api.url}/me`, '127.0.0.2', dave);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await getFrom(`${api.url}/me`, '127.0.0.2', erin)).status).toBe(429);
  });

  it('counts one principal from two addresses together, and audits the refusal', async () => {
    const frank = tokenOf('frank');
    const statuses: number[] = [];
    for (let i = 0; i <= limit; i += 1)
      statuses.push(
        (await getFrom(`${api.url}/me`, i % 2 ? '127.0.0.3' : '127.0.0.4', frank)).status,
      );
    expect(statuses).toEqual([200, 200, 200, 429]);
    const response = await call(api, 'GET', '/me', { token: tokenOf('frank') });
    expect(response.status).toBe(429);
    expect(response.body.code).toBe('ZT_RATE_LIMITED');
    // The reason phrase of 429, as Nest's own bodies carry it (it read "Error").
    expect(response.body.error).toBe('Too Many Requests');
    const event = api.sink.events.at(-1);
    expect(event).toMatchObject({
      action: 'excess_rate_limit_exceeded',
      decision: 'deny',
      code: 'ZT_RATE_LIMITED',
      principal: { kind: 'user', id: 'frank' },
      request: { route: '/me', ip: '127.0.0.1' },
    });
  });

  it('counts anonymous callers of a public route by address', async () => {
    for (let i = 0; i < limit; i += 1)
      expect((await getFrom(`${api.url}/health`, '127.0.0.5')).status).not.toBe(429);
    expect((await getFrom(`${api.url}/health`, '127.0.0.5')).status).toBe(429);
    expect((await getFrom(`${api.url}/health`, '127.0.0.6')).status).not.toBe(429);
    const refusals = api.sink.events.filter((e) => e.action === 'excess_rate_limit_exceeded');
    expect(refusals.at(-1)).toMatchObject({ request: { route: '/health', ip: '127.0.0.5' } });
    expect(refusals.at(-1)?.principal).toBeUndefined();
  });

  it('sends helmet security headers', async () => {
    const response = await call(api, 'GET', '/me', { token: tokenOf('grace') });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('x-ratelimit-limit')).toBe(String(limit));
  });
});
