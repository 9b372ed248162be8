import { describe, expect, it } from 'vitest';
import { validateRisk } from './validate-risk.js';

describe('validateRisk', () => {
  it('is off when absent, with every default when present', () => {
    expect(validateRisk(undefined, []).enabled).toBe(false);
    const problems: string[] = [];
    const risk = validateRisk({}, problems);
    expect(problems).toEqual([]);
    expect(risk).toMatchObject({
      enabled: true,
      mode: undefined,
      stepUpAbove: 40,
      denyAbove: 75,
      stepUp: { acr: undefined, maxAge: 300 },
      onError: 'fail-closed',
      geolocation: undefined,
      device: { claim: 'device_id', mismatchScore: 70, newDeviceScore: 25 },
      usage: { learningRequests: 50, newRouteScore: 50 },
      network: { deny: [], services: {} },
      failures: { window: 300, threshold: 10, score: 50 },
      injection: { score: 90 },
    });
  });

  it('switches each built-in signal off with false', () => {
    const risk = validateRisk(
      { device: false, usage: false, network: false, failures: false, injection: false },
      [],
    );
    expect([risk.device, risk.usage, risk.network, risk.failures, risk.injection]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('accepts a database path or a locator for geolocation', () => {
    expect(validateRisk({ geolocation: { database: '/x.mmdb' } }, []).geolocation).toMatchObject({
      database: '/x.mmdb',
      maxSpeedKmh: 900,
      minDistanceKm: 50,
      travelScore: 60,
    });
    const locator = { locate: () => undefined };
    expect(validateRisk({ geolocation: { database: locator } }, []).geolocation?.database).toBe(
      locator,
    );
  });

  it('lists every problem at once, never echoing values', () => {
    const problems: string[] = [];
    validateRisk(
      {
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
      problems,
    );
    expect(problems).toEqual([
      'risk: unknown option "extra"',
      'risk.mode must be "enforce" or "report-only"',
      'risk.stepUp.acr must be a non-empty string without quotes',
      'risk.stepUp.maxAge must be an integer from 1 to 9007199254740991',
      'risk.onError must be "fail-closed" or "ignore"',
      'risk.signals[0] must implement RiskSignal (name, evaluate)',
      'risk.signals[1] must implement RiskSignal (name, evaluate)',
      'risk.device: unknown option "bogus"',
      'risk.device.claim must be a claim name',
      'risk.device.headers must be a non-empty array of header names',
      'risk.geolocation.allowCountries must be ISO 3166-1 alpha-2 codes (e.g. "FR")',
      'risk.geolocation.database must be a path to an .mmdb file or a GeoLocator',
      'risk.usage.hours["alice"] must look like "08:00-18:00" (UTC)',
      'risk.failures.threshold must be an integer from 1 to 9007199254740991',
      'risk.injection.skipHeaders must be an array of names',
      'risk.stepUpAbove must not exceed risk.denyAbove',
    ]);
    expect(problems.join('\n')).not.toContain('explode');
  });
});
