import { describe, expect, it } from 'vitest';
import { validateFailureLimit } from './validate-failure-limit.js';

describe('validateFailureLimit', () => {
  it('is off when absent, and defaults the window to a minute', () => {
    const problems: string[] = [];
    expect(validateFailureLimit(undefined, problems)).toBeUndefined();
    expect(validateFailureLimit({ max: 20 }, problems)).toEqual({ max: 20, window: 60 });
    expect(problems).toEqual([]);
  });

  it('lists every problem without echoing values', () => {
    const problems: string[] = [];
    expect(validateFailureLimit({ max: 0, window: 'x', burst: 'secret-ish' }, problems)).toBe(
      undefined,
    );
    expect(problems).toEqual([
      'authenticationFailures: unknown option "burst"',
      'authenticationFailures.max must be a positive integer',
      'authenticationFailures.window must be a number of seconds from 1 to 86400',
    ]);
    expect(problems.join(' ')).not.toContain('secret-ish');
    const more: string[] = [];
    validateFailureLimit([], more);
    expect(more).toEqual(['authenticationFailures must be an object { max, window? }']);
  });
});
