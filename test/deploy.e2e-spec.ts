import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ZeroTrustMetrics } from 'nestjs-zero-trust';

const root = new URL('../', import.meta.url);
const promtool = spawnSync('promtool', ['--version']).error === undefined;
if (!promtool) {
  if (process.env.CI === 'true') throw new Error('promtool is required when CI=true');
  console.warn(
    'notice: promtool not found (Debian: apt-get install prometheus); skipping rule checks',
  );
}

function run(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: new URL('deploy/prometheus/', root) });
  return { status: result.status, output: `${String(result.stdout)}${String(result.stderr)}` };
}

/** Metric names the library registers, with the series names histograms expose. */
async function knownSeries(): Promise<Set<string>> {
  const metrics = new ZeroTrustMetrics({
    monitoring: {
      metrics: { registry: new Registry() },
      health: { maxKeyAge: 3600 },
      explainDenials: false,
    },
  });
  const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
  return new Set(names.flatMap((n) => [n, `${n}_bucket`, `${n}_count`, `${n}_sum`]));
}

function referenced(text: string): string[] {
  return [...new Set(text.match(/zero_trust_[a-z_]+/g) ?? [])];
}

describe('Prometheus rules and Grafana dashboard (deploy/)', () => {
  it.skipIf(!promtool)('pass promtool check rules', () => {
    const result = run('check', 'rules', 'zero-trust.rules.yml');
    expect(result.output).toContain('SUCCESS: 8 rules found');
    expect(result.status).toBe(0);
  });

  it.skipIf(!promtool)('pass their unit tests (promtool test rules)', () => {
    const result = run('test', 'rules', 'zero-trust.rules.test.yml');
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('alert on metrics the library exports', async () => {
    const known = await knownSeries();
    const rules = await readFile(new URL('deploy/prometheus/zero-trust.rules.yml', root), 'utf8');
    const names = referenced(rules);
    expect(names.length).toBeGreaterThan(4);
    for (const name of names) expect([name, known.has(name)]).toEqual([name, true]);
  });

  it('chart only metrics the library exports, in panels with unique ids', async () => {
    const known = await knownSeries();
    const dashboard = JSON.parse(
      await readFile(new URL('deploy/grafana/zero-trust.json', root), 'utf8'),
    ) as { uid: string; panels: { id: number; targets?: { expr: string }[] }[] };
    expect(dashboard.uid).toBe('nestjs-zero-trust');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    const names = referenced(exprs.join('\n'));
    for (const name of names) expect([name, known.has(name)]).toEqual([name, true]);
    // Every metric of the library is on the dashboard.
    const base = [...known].filter((n) => !/_(bucket|count|sum)$/.test(n));
    for (const name of base)
      expect([name, names.some((n) => n === name || n === `${name}_bucket`)]).toEqual([name, true]);
  });
});
