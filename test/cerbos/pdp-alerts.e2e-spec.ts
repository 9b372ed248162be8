import { GRPC } from '@cerbos/grpc';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { CerbosDecisionPoint } from 'nestjs-zero-trust/cerbos';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../deploy/prometheus/', import.meta.url);
const promtool = spawnSync('promtool', ['--version']).error === undefined;
if (!promtool) {
  if (process.env.CI === 'true') throw new Error('promtool is required when CI=true');
  console.warn(
    'notice: promtool not found (Debian: apt-get install prometheus); skipping PDP rules',
  );
}
const run = (...args: string[]) => {
  const result = spawnSync('promtool', args, { cwd: dir });
  return { status: result.status, output: `${String(result.stdout)}${String(result.stderr)}` };
};

describe('alert rules of the policy decision point (deploy/prometheus)', () => {
  it.skipIf(!promtool)('pass promtool check rules and their unit tests', () => {
    const checked = run('check', 'rules', 'zero-trust-pdp.rules.yml');
    expect(checked.output).toContain('SUCCESS: 2 rules found');
    const tested = run('test', 'rules', 'zero-trust-pdp.rules.test.yml');
    expect([tested.status, tested.output]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });

  it('alert on the metrics the Cerbos adapter exports', async () => {
    const registry = new Registry();
    const pdp = new CerbosDecisionPoint(
      { client: new GRPC('127.0.0.1:1', { tls: false }) },
      registry,
    );
    expect(pdp.engine).toBe('cerbos');
    const exported = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(exported).toEqual(['zero_trust_pdp_calls_total', 'zero_trust_pdp_call_seconds']);
    const rules = await readFile(new URL('zero-trust-pdp.rules.yml', dir), 'utf8');
    const referenced = [...new Set(rules.match(/zero_trust_[a-z_]+/g) ?? [])];
    expect(referenced.length).toBe(2);
    for (const name of referenced)
      expect([name, exported.includes(name.replace(/_bucket$/, ''))]).toEqual([name, true]);
  });
});
