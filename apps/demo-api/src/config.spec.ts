import { describe, expect, it } from 'vitest';
import { configFromEnv, DEMO_RATE_LIMIT_PER_MINUTE } from './config.js';

describe('demo configuration', () => {
  it('keeps shared state in memory and limits 300 requests a minute by default', () => {
    const config = configFromEnv({});
    expect(config.redisUrl).toBeUndefined();
    expect(config.rateLimitPerMinute).toBe(DEMO_RATE_LIMIT_PER_MINUTE);
    expect(DEMO_RATE_LIMIT_PER_MINUTE).toBe(300);
  });

  it('switches to Redis with REDIS_URL, and reads the rate limit', () => {
    const config = configFromEnv({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: 'demo:',
      RATE_LIMIT_PER_MINUTE: '20',
    });
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      redisKeyPrefix: 'demo:',
      rateLimitPerMinute: 20,
    });
    expect(configFromEnv({ REDIS_URL: '' }).redisUrl).toBeUndefined();
  });

  it('refuses a rate limit that is not a positive integer', () => {
    for (const value of ['0', '-1', '1.5', 'many'])
      expect(() => configFromEnv({ RATE_LIMIT_PER_MINUTE: value })).toThrow(
        'RATE_LIMIT_PER_MINUTE must be a positive integer',
      );
  });

  it('audits every allow by default; AUDIT_ALLOWS turns them off or samples them', () => {
    expect(configFromEnv({}).auditAllows).toBe(1);
    expect(configFromEnv({ AUDIT_ALLOWS: 'off' }).auditAllows).toBe(0);
    expect(configFromEnv({ AUDIT_ALLOWS: '0.25' }).auditAllows).toBe(0.25);
    for (const bad of ['yes', '2', '-1', ''])
      expect(() => configFromEnv({ AUDIT_ALLOWS: bad })).toThrow(
        'AUDIT_ALLOWS must be "on", "off" or a sample rate between 0 and 1',
      );
  });

  it('writes no access log line per request unless ACCESS_LOG=on', () => {
    expect(configFromEnv({}).accessLog).toBe(false);
    expect(configFromEnv({ ACCESS_LOG: 'on' }).accessLog).toBe(true);
    expect(() => configFromEnv({ ACCESS_LOG: 'yes' })).toThrow('ACCESS_LOG must be "on" or "off"');
  });
});
