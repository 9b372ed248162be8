import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import { MemoryRevocationStore } from '../stores/memory/memory-revocation.store.js';
import { validateOptions } from './validate-options.js';

const REQUIRED = { issuer: 'https://issuer.test', audience: 'https://api.test' };

function resolve(options: Record<string, unknown>) {
  return validateOptions({ ...REQUIRED, ...options });
}

function problemsOf(options: unknown): readonly string[] {
  try {
    validateOptions(options);
    return [];
  } catch (error) {
    if (error instanceof ZeroTrustConfigurationError) return error.problems;
    throw error;
  }
}

const fakeClient = Object.fromEntries(
  ['eval', 'mget', 'multi', 'set', 'get', 'ping', 'on'].map((m) => [m, () => undefined]),
);

describe('validateOptions', () => {
  it('applies every default', () => {
    const options = resolve({});
    expect(options).toMatchObject({
      issuer: 'https://issuer.test',
      audience: ['https://api.test'],
      algorithms: ['RS256', 'PS256', 'ES256', 'RS384', 'PS384', 'ES384', 'RS512', 'PS512', 'ES512'],
      tokenTypes: ['at+jwt'],
      maxTokenLifetime: 900,
      unsafeAllowLongLivedTokens: false,
      clockTolerance: 5,
      maxTokenSize: 8192,
      requiredClaims: [],
      jwks: { cooldown: 30, maxAge: 600, timeout: 5 },
      principals: { services: {}, integrations: {}, rolesClaim: 'roles' },
      abilities: {},
      policyVersion: '1',
      abilityCache: { max: 10_000, ttl: 300 },
      tokenCache: { max: 10_000 },
      mode: 'enforce',
      strictRouteAudit: true,
      store: {
        type: 'memory',
        limits: { replay: 100_000, revocations: 100_000, principals: 100_000, addresses: 50_000 },
      },
      audit: { allowSampleRate: 1, bufferSize: 10_000 },
      monitoring: { metrics: {}, health: { maxKeyAge: 3600 }, explainDenials: false },
      propagateRequestId: 'auto',
      risk: { enabled: false, device: undefined, usage: undefined, signals: [] },
    });
    expect([options.jwksUri, options.audit.sink, options.monitoring.metrics.registry]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(options.mtls).toBeUndefined();
    expect(options.dpop).toBeUndefined();
    expect(options.authenticationFailures).toBeUndefined();
  });

  it('lists every problem of the whole options, never echoing values', () => {
    expect(problemsOf('options')).toEqual(['options must be an object']);
    expect(problemsOf({})).toEqual([
      'issuer is required (the exact "iss" value of your tokens)',
      "audience is required: this resource server's identifier (a non-empty string or array of strings)",
    ]);
    const problems = problemsOf({
      ...REQUIRED,
      tokenTypes: [],
      clockTolerance: 301,
      jwks: { cooldown: -1, maxAge: 0, ttl: 1 },
      principals: {
        services: { a: { roles: 'admin' } },
        integrations: { a: {} },
        rolesClaim: '',
        attributes: 'secret-value',
      },
      abilities: { user: 'x' },
      policyVersion: '',
      tokenCache: { max: 1.5 },
      strictRouteAudit: 'yes',
      trustedProxies: ['10.0.0.0/33', 'loopback'],
      forwardedHeader: 'x-real-ip',
      authenticationFailures: { max: 0, window: 'x', burst: 'secret-value' },
    });
    expect(problems).toEqual([
      'tokenTypes must be a non-empty array of strings',
      'clockTolerance must be a number of seconds from 0 to 300',
      'jwks.cooldown must be a non-negative number',
      'jwks.maxAge must be a positive number',
      'unknown option "jwks.ttl"',
      'principals.services.a.roles must be an array',
      'principals.rolesClaim must be a claim name',
      'principals.attributes must be a function',
      'principals.integrations.a is also registered as a service',
      'abilities.user must be a function (principal, env, builder) => void',
      'policyVersion must be a non-empty string',
      'tokenCache.max must be a non-negative integer',
      'strictRouteAudit must be a boolean',
      'trustedProxies[0] must be an IPv4 or IPv6 address, a CIDR block, or loopback',
      'forwardedHeader must be "x-forwarded-for" or "forwarded"',
      'authenticationFailures.max must be a positive integer',
      'authenticationFailures.window must be a number of seconds from 1 to 86400',
      'unknown option "authenticationFailures.burst"',
    ]);
    expect(problems.join('\n')).not.toContain('secret-value');
  });

  it('turns the failed-authentication limit on with a one-minute window', () => {
    expect(resolve({ authenticationFailures: { max: 20 } }).authenticationFailures).toEqual({
      max: 20,
      window: 60,
    });
  });

  it('caps the token lifetime at an hour unless long-lived tokens are allowed on purpose', () => {
    expect(problemsOf({ ...REQUIRED, maxTokenLifetime: 7200 })).toEqual([
      'maxTokenLifetime must not exceed 3600 seconds unless unsafeAllowLongLivedTokens is true',
    ]);
    expect(
      resolve({ maxTokenLifetime: 7200, unsafeAllowLongLivedTokens: true }).maxTokenLifetime,
    ).toBe(7200);
  });

  it('passes functions and objects through as they are', () => {
    const attributes = () => ({});
    const user = () => undefined;
    const registry = new Registry();
    const sink = { write: () => undefined };
    const options = resolve({
      principals: { attributes },
      abilities: { user },
      monitoring: { metrics: { registry } },
      audit: { sink },
    });
    expect(options.principals.attributes).toBe(attributes);
    expect(options.abilities.user).toBe(user);
    expect(options.monitoring.metrics.registry).toBe(registry);
    expect(options.audit.sink).toBe(sink);
  });
});

describe('the audit and monitoring options', () => {
  it('turn a boolean into a sample rate and accept a registry, "global" and a key age', () => {
    expect(resolve({ audit: { allows: { sampleRate: 0.1 } } }).audit.allowSampleRate).toBe(0.1);
    expect(resolve({ audit: { allows: false } }).audit).toMatchObject({ allowSampleRate: 0 });
    expect(
      resolve({ monitoring: { metrics: { registry: 'global' }, health: { maxKeyAge: 60 } } })
        .monitoring,
    ).toEqual({
      metrics: { registry: 'global' },
      health: { maxKeyAge: 60 },
      explainDenials: false,
    });
  });

  it('list every problem without echoing values', () => {
    const problems = problemsOf({
      ...REQUIRED,
      audit: {
        sink: {},
        allows: { sampleRate: 2 },
        bufferSize: 0,
        serviceName: 'secret value with spaces',
        extra: 1,
      },
      monitoring: {
        metrics: { registry: {} },
        health: { maxKeyAge: -1 },
        explainDenials: 'yes',
        other: 1,
      },
    });
    expect(problems).toEqual([
      'audit.sink must implement AuditSink (write(event))',
      'audit.allows.sampleRate must be a number from 0 to 1',
      'audit.bufferSize must be a positive integer',
      'audit.serviceName must be 1 to 64 letters, digits, ".", "_" or "-"',
      'unknown option "audit.extra"',
      'monitoring.metrics.registry must be a prom-client Registry or "global"',
      'monitoring.health.maxKeyAge must be a positive number of seconds',
      'monitoring.explainDenials must be a boolean',
      'unknown option "monitoring.other"',
    ]);
    expect(problems.join()).not.toContain('secret value');
  });
});

describe('the store option', () => {
  it('defaults to memory, takes memory budgets, and keeps custom stores as they are', () => {
    expect(
      resolve({ store: { type: 'memory', limits: { replay: 10, addresses: 5 } } }).store,
    ).toEqual({
      type: 'memory',
      limits: { replay: 10, revocations: 100_000, principals: 100_000, addresses: 5 },
    });
    const revocations = new MemoryRevocationStore();
    const custom = resolve({ store: { type: 'custom', revocations } }).store;
    expect(custom).toMatchObject({ type: 'custom' });
    expect(custom.type === 'custom' && custom.revocations).toBe(revocations);
  });

  it('lists every bad memory budget', () => {
    expect(
      problemsOf({
        ...REQUIRED,
        store: { type: 'memory', limits: { replay: 0, principal: 3, revocations: 1.5 }, max: 1 },
      }),
    ).toEqual([
      'store.limits.replay must be a positive integer (entries)',
      'store.limits.revocations must be a positive integer (entries)',
      'unknown option "store.limits.principal"',
      'unknown option "store.max"',
    ]);
  });

  it('applies Redis defaults: fail closed, zt: prefix, bounded timeouts', () => {
    expect(resolve({ store: { type: 'redis', url: 'redis://127.0.0.1:6379/1' } }).store).toEqual({
      type: 'redis',
      url: 'redis://127.0.0.1:6379/1',
      keyPrefix: 'zt:',
      commandTimeout: 500,
      connectTimeout: 2000,
      failOpen: { revocation: false, state: false },
    });
    const custom = resolve({
      store: {
        type: 'redis',
        client: fakeClient,
        keyPrefix: 'billing:',
        failOpen: { state: true },
      },
    }).store;
    expect(custom).toMatchObject({
      keyPrefix: 'billing:',
      failOpen: { revocation: false, state: true },
    });
    expect(custom.type === 'redis' && custom.client).toBe(fakeClient);
  });

  it('lists every Redis problem without echoing values', () => {
    const secret = 'redis://:hunter2@db.example';
    const store = (value: Record<string, unknown>) => problemsOf({ ...REQUIRED, store: value });
    const problems = store({
      type: 'redis',
      url: `${secret}:not-a-port`,
      client: {},
      keyPrefix: 3,
      commandTimeout: -1,
      failOpen: { revocation: 'yes', audit: true },
      extra: 1,
    });
    expect(problems).toEqual([
      'store.url must be a redis:// or rediss:// URL',
      'store.client must be an ioredis client',
      'store.keyPrefix must be a string',
      'store.commandTimeout must be a positive integer (milliseconds)',
      'store.failOpen.revocation must be a boolean',
      'unknown option "store.failOpen.audit"',
      'unknown option "store.extra"',
      'store needs one of "url", "client", "cluster" or "sentinels" for type "redis"',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(store({ type: 'redis' })).toEqual([
      'store needs one of "url", "client", "cluster" or "sentinels" for type "redis"',
    ]);
    // Cluster and Sentinel: URLs only, credentials never echoed, "name" with "sentinels" only.
    expect(store({ type: 'redis', cluster: [secret, 'redis://10.0.0.2:7000'] })).toEqual([]);
    expect(store({ type: 'redis', cluster: [] })).toEqual([
      'store.cluster must be a non-empty array of redis:// or rediss:// URLs of cluster nodes',
    ]);
    expect(
      store({
        type: 'redis',
        sentinels: ['http://:hunter2@s1:26379', 'redis://s2/0'],
        url: secret,
      }),
    ).toEqual([
      'store.sentinels[0] must be a redis:// or rediss:// URL',
      'store.sentinels[1] must be a redis:// or rediss:// URL',
      'store needs one of "url", "client", "cluster" or "sentinels" for type "redis"',
      'store needs "name" with "sentinels", and "name" only with them',
    ]);
    expect(store({ type: 'redis', url: secret, name: 'mymaster', replicaAcks: -1 })).toEqual([
      'store.replicaAcks must be a non-negative integer',
      'store needs "name" with "sentinels", and "name" only with them',
    ]);
    expect(
      store({ type: 'redis', sentinels: ['rediss://s1:26379'], name: 'mymaster', replicaAcks: 2 }),
    ).toEqual([]);
    expect(store({ type: 'redis', url: 'http://127.0.0.1' })).toEqual([
      'store.url must be a redis:// or rediss:// URL',
    ]);
    expect(store({ type: 'disk' })).toEqual(['store.type must be "memory", "redis" or "custom"']);
    expect(store({ type: 'custom', revocations: {} })).toEqual([
      'store.revocations must implement RevocationStore (revokeToken, revokeIssuedBefore, isRevoked)',
    ]);
  });
});

describe('the risk option', () => {
  it('is off when absent, with every default when present', () => {
    expect(resolve({}).risk.enabled).toBe(false);
    const risk = resolve({ risk: {} }).risk;
    expect([risk.mode, risk.stepUp.acr, risk.geolocation]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(risk).toMatchObject({
      enabled: true,
      stepUpAbove: 40,
      denyAbove: 75,
      stepUp: { maxAge: 300 },
      onError: 'fail-closed',
      device: { claim: 'device_id', mismatchScore: 70, newDeviceScore: 25 },
      usage: { learningRequests: 50, newRouteScore: 50 },
      network: { deny: [], services: {} },
      failures: { window: 300, threshold: 10, score: 50 },
      injection: { score: 90 },
    });
  });

  it('switches each built-in signal off with false', () => {
    const risk = resolve({
      risk: { device: false, usage: false, network: false, failures: false, injection: false },
    }).risk;
    expect([risk.device, risk.usage, risk.network, risk.failures, risk.injection]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('accepts a database path or a locator for geolocation', () => {
    expect(
      resolve({ risk: { geolocation: { database: '/x.mmdb' } } }).risk.geolocation,
    ).toMatchObject({
      database: '/x.mmdb',
      maxSpeedKmh: 900,
      minDistanceKm: 50,
      travelScore: 60,
    });
    const locator = { locate: () => undefined };
    expect(
      resolve({ risk: { geolocation: { database: locator } } }).risk.geolocation?.database,
    ).toBe(locator);
  });

  it('lists every problem at once, naming its path, never echoing values', () => {
    const problems = problemsOf({
      ...REQUIRED,
      risk: {
        mode: 'audit',
        stepUpAbove: 90,
        denyAbove: 80,
        stepUp: { acr: 'a"b', maxAge: -1 },
        onError: 'explode',
        signals: [{ name: 'x' }, 'nope'],
        device: { claim: '', headers: [], bogus: 1 },
        geolocation: { allowCountries: ['gb'] },
        usage: { hours: { alice: '9-5' } },
        failures: { threshold: 0 },
        injection: { skipHeaders: 'authorization' },
        extra: true,
      },
    });
    expect(problems).toEqual([
      'risk.mode must be "enforce" or "report-only"',
      'risk.stepUp.acr must be a non-empty string without quotes',
      'risk.stepUp.maxAge must be a whole number of seconds, at least 1',
      'risk.onError must be "fail-closed" or "ignore"',
      'risk.signals[0] must implement RiskSignal (name, evaluate)',
      'risk.signals[1] must implement RiskSignal (name, evaluate)',
      'risk.device.claim must be a claim name',
      'risk.device.headers must be a non-empty array of header names',
      'unknown option "risk.device.bogus"',
      'risk.geolocation.database must be a path to an .mmdb file or a GeoLocator',
      'risk.geolocation.allowCountries[0] must be an ISO 3166-1 alpha-2 code (e.g. "FR")',
      'risk.usage.hours.alice must look like "08:00-18:00" (UTC)',
      'risk.failures.threshold must be an integer of at least 1',
      'risk.injection.skipHeaders must be an array of names',
      'unknown option "risk.extra"',
      'risk.stepUpAbove must not exceed risk.denyAbove',
    ]);
    expect(problems.join('\n')).not.toContain('explode');
  });

  it('refuses two signals of one name', () => {
    const signal = { name: 'mine', evaluate: () => undefined };
    expect(problemsOf({ ...REQUIRED, risk: { signals: [signal, { ...signal }] } })).toEqual([
      'risk.signals[1] duplicate signal name "mine"',
    ]);
  });
});
