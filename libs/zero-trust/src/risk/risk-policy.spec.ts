import { describe, expect, it } from 'vitest';
import { validateOptions } from '../options/validate-options.js';
import { createTestPrincipal } from '../testing/index.js';
import { routePolicyOf } from '../routes/route-policy.js';
import { decideRisk, RiskPolicy } from './risk-policy.js';
import { combineScores } from './risk.types.js';

/** The `risk` option resolved as the module resolves it. */
const riskOptions = (risk: unknown) =>
  validateOptions({ issuer: 'https://issuer.test', audience: 'https://api.test', risk }).risk;

const NOW = new Date('2026-03-02T09:00:00Z');
const nowSeconds = NOW.getTime() / 1000;
const options = riskOptions({ stepUp: { acr: 'urn:demo:acr:mfa', maxAge: 600 } });
const score = (value: number) => ({ score: value, reasons: [] });

describe('combineScores (noisy-OR)', () => {
  it.each([
    [[], 0],
    [[30], 30],
    [[50, 50], 75],
    [[30, 30, 30], 66],
    [[100, 10], 100],
    [[150], 100],
    [[-20, 40], 40],
    [[Number.NaN], 100],
  ])('%j → %d', (scores, expected) => {
    expect(combineScores(scores)).toBe(expected);
  });
});

describe('decideRisk', () => {
  const carol = createTestPrincipal({ id: 'carol', roles: ['admin'] });
  const mfa = createTestPrincipal({
    id: 'carol',
    token: { acr: 'urn:demo:acr:mfa', amr: ['pwd', 'otp'], authTime: nowSeconds - 60 },
  });
  const service = createTestPrincipal({ kind: 'service', id: 'reporting-service' });

  it('allows at or below the step-up threshold, denies above the deny threshold', () => {
    expect(decideRisk(score(40), {}, options, carol, NOW).verdict).toBe('allow');
    expect(decideRisk(score(76), {}, options, mfa, NOW).verdict).toBe('deny');
  });

  it('asks for a step-up in between, with the acr and max age of the challenge', () => {
    expect(decideRisk(score(60), {}, options, carol, NOW)).toEqual({
      verdict: 'step-up',
      acr: 'urn:demo:acr:mfa',
      maxAge: 600,
    });
  });

  it('accepts a token that already shows the required, recent authentication', () => {
    expect(decideRisk(score(60), {}, options, mfa, NOW).verdict).toBe('allow');
    const stale = createTestPrincipal({
      token: { acr: 'urn:demo:acr:mfa', authTime: nowSeconds - 601 },
    });
    expect(decideRisk(score(60), {}, options, stale, NOW).verdict).toBe('step-up');
    const weak = createTestPrincipal({
      token: { acr: 'urn:demo:acr:password', authTime: nowSeconds },
    });
    expect(decideRisk(score(60), {}, options, weak, NOW).verdict).toBe('step-up');
  });

  it('requires the route’s authentication whatever the score when the route names one', () => {
    const policy = { maxScore: 30, acr: 'urn:demo:acr:mfa', maxAuthAge: 300 };
    expect(decideRisk(score(0), policy, options, carol, NOW)).toMatchObject({
      verdict: 'step-up',
      maxAge: 300,
    });
    expect(decideRisk(score(0), policy, options, mfa, NOW).verdict).toBe('allow');
    expect(decideRisk(score(31), policy, options, mfa, NOW).verdict).toBe('deny');
  });

  it('denies a service instead: it cannot step up', () => {
    expect(decideRisk(score(60), {}, options, service, NOW).verdict).toBe('deny');
  });
});

describe('@RiskPolicy', () => {
  it('merges the class policy with the handler’s', () => {
    @RiskPolicy({ maxScore: 50, acr: 'urn:a' })
    class Controller {
      @RiskPolicy({ maxScore: 20 })
      handler(): void {}
      other(): void {}
    }
    const method = (name: string) => Reflect.get(Controller.prototype, name) as () => void;
    expect(routePolicyOf(Controller, method('handler')).risk).toEqual({
      maxScore: 20,
      acr: 'urn:a',
    });
    expect(routePolicyOf(Controller, method('other')).risk).toEqual({ maxScore: 50, acr: 'urn:a' });
  });

  it('refuses bad values when the decorator is applied', () => {
    expect(() => RiskPolicy({ maxScore: 101 })).toThrow(TypeError);
    expect(() => RiskPolicy({ maxAuthAge: 0 })).toThrow(TypeError);
    expect(() => RiskPolicy({ acr: 'a"b' })).toThrow(TypeError);
  });
});
