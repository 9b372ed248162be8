import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ZeroTrustMetrics } from 'nestjs-zero-trust';
import { toEcsEvent, type DecisionEvent } from 'nestjs-zero-trust/audit';
import { DEMO_AUDIENCE, DEMO_CLIENT_SCOPES } from '../apps/identity/src/constants.js';
import { call, startDemoApi, type RunningApi } from './support/demo-api.js';
import { startTestIdentityProvider, type TestIdentityProvider } from './support/identity.js';
import { canSpawnRedis, freePort } from './support/redis.js';

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

// The stack of deploy/compose.yaml. Its images cannot be pulled on this machine: what runs here is
// every check that needs no image (docs/deployment.md lists them, and what was not run).
const deploy = fileURLToPath(new URL('deploy/', root));
const readText = (path: string): Promise<string> => readFile(join(deploy, path), 'utf8');
const readYaml = async <T>(path: string): Promise<T> => parse(await readText(path)) as T;

/** The variables a team sets in deploy/.env (stack.env.example), with test values. */
const STACK_ENV: Record<string, string> = {
  REDIS_PASSWORD: 'redis-test-password',
  GRAFANA_ADMIN_PASSWORD: 'grafana-test-password',
  ELASTIC_PASSWORD: 'elastic-test-password',
  KIBANA_SYSTEM_PASSWORD: 'kibana-test-password',
  FILEBEAT_PASSWORD: 'filebeat-test-password',
  METRICS_SCRAPER_SECRET_FILE: './secrets/metrics-scraper.secret',
};

/** Compose's interpolation (`$$`, `${V}`, `${V:-default}`, `${V:?error}`), failing as compose does. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}/g, (all, name, op, arg) => {
    if (all === '$$') return '$';
    const value = env[name as string];
    if (value !== undefined && value !== '') return value;
    if (op === ':?') throw new Error(`required variable ${name as string} is missing: ${arg}`);
    return op === ':-' ? (arg as string) : '';
  });
}

interface ComposeService {
  image: string;
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: string[] | Record<string, { condition: string }>;
  command?: string[];
  entrypoint?: string[];
  secrets?: string[];
  network_mode?: string;
}
interface Compose {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

const dockerCompose = spawnSync('docker', ['compose', 'version']).status === 0;
if (!dockerCompose)
  console.warn(
    'notice: no `docker compose` here; compose.yaml is checked against the Compose schema',
  );

describe('the stack to deploy (deploy/compose.yaml)', () => {
  let raw: string;
  let compose: Compose;
  beforeAll(async () => {
    raw = await readText('compose.yaml');
    compose = parse(interpolate(raw, STACK_ENV)) as Compose;
  });

  it('is a valid Compose file (against the Compose Specification schema)', async () => {
    const schema = JSON.parse(
      await readFile(new URL('support/schemas/compose-spec.json', import.meta.url), 'utf8'),
    ) as object;
    // The schema names draft-07 by an address Ajv does not know it by; it is draft-07.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    const validate = ajv.compile(schema);
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'elasticsearch',
        'elasticsearch-setup',
        'filebeat',
        'grafana',
        'kibana',
        'kibana-setup',
        'prometheus',
        'redis',
      ].sort(),
    );
  });

  it.skipIf(!dockerCompose)('passes docker compose config', () => {
    const result = spawnSync('docker', ['compose', '-f', 'compose.yaml', 'config', '--quiet'], {
      cwd: deploy,
      env: { ...process.env, ...STACK_ENV },
    });
    expect(String(result.stderr)).toBe('');
    expect(result.status).toBe(0);
  });

  it('refuses to start without a password: none has a default', () => {
    const passwords = [...raw.matchAll(/\$\{([A-Z_]*PASSWORD[A-Z_]*)(:.)?/g)];
    expect(passwords.length).toBeGreaterThanOrEqual(6);
    for (const [, name, op] of passwords) expect([name, op]).toEqual([name, ':?']);
    for (const name of Object.keys(STACK_ENV)) {
      const { [name]: _, ...missing } = STACK_ENV;
      expect(() => interpolate(raw, missing)).toThrow(`required variable ${name} is missing`);
    }
  });

  it('pins every image, publishes on loopback only, and mounts files that exist', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect([name, service.image]).toEqual([name, expect.stringMatching(/:v?\d+\.\d+\.\d+/)]);
      for (const port of service.ports ?? [])
        expect([name, port]).toEqual([name, expect.stringMatching(/^127\.0\.0\.1:/)]);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (!source.startsWith('.') || source === './logs') continue;
        expect([name, source, existsSync(join(deploy, source))]).toEqual([name, source, true]);
      }
      const needs = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys(service.depends_on ?? {});
      for (const other of needs) expect(Object.keys(compose.services)).toContain(other);
    }
    // On the host's network nothing is published: those services listen on its loopback.
    const onHost = Object.keys(compose.services).filter(
      (name) => compose.services[name]?.network_mode === 'host',
    );
    expect(onHost).toEqual(['prometheus', 'grafana']);
    expect(compose.services.prometheus?.command).toContain('--web.listen-address=127.0.0.1:9090');
    expect(compose.services.grafana?.environment?.GF_SERVER_HTTP_ADDR).toBe('127.0.0.1');
    // The one-shot setups run scripts of deploy/elk, mounted at /setup.
    for (const name of ['elasticsearch-setup', 'kibana-setup']) {
      const script = compose.services[name]?.entrypoint?.[1] ?? '';
      expect(existsSync(join(deploy, 'elk', script.replace('/setup/', '')))).toBe(true);
    }
  });

  it.skipIf(!canSpawnRedis)(
    'runs Redis as the stores need it: noeviction, persistence, a password',
    async () => {
      expect(compose.services.redis?.command?.slice(0, 2)).toEqual([
        'redis-server',
        '/usr/local/etc/redis/redis.conf',
      ]);
      // The real redis-server with deploy/redis/redis.conf, on loopback and in a scratch directory.
      const dir = await mkdtemp(join(tmpdir(), 'zt-deploy-redis-'));
      const port = await freePort();
      const password = 'deploy-test-password';
      const server = spawn(
        'redis-server',
        [
          join(deploy, 'redis/redis.conf'),
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--requirepass',
          password,
        ],
        { stdio: 'ignore' },
      );
      const listening = (): Promise<boolean> =>
        new Promise((resolve) => {
          const probe = connect(port, '127.0.0.1', () => resolve(probe.destroy() !== undefined));
          probe.on('error', () => resolve(false));
        });
      while (!(await listening())) {
        if (server.exitCode !== null)
          throw new Error('redis-server refused deploy/redis/redis.conf');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const client = new Redis({ port, password, lazyConnect: true });
      try {
        await client.connect();
        expect(await client.config('GET', 'maxmemory-policy')).toEqual([
          'maxmemory-policy',
          'noeviction',
        ]);
        expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
        expect(Number((await client.config('GET', 'maxmemory'))[1])).toBeGreaterThan(0);
        // Without the password: refused (RESP over a plain socket; ioredis would not get this far).
        const socket = connect(port, '127.0.0.1');
        await once(socket, 'connect');
        socket.write('PING\r\n');
        const [reply] = (await once(socket, 'data')) as [Buffer];
        socket.destroy();
        expect(reply.toString()).toMatch(/^-NOAUTH/);
      } finally {
        client.disconnect();
        const exited = once(server, 'exit');
        server.kill('SIGKILL');
        await exited;
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('Prometheus and Grafana of the stack', () => {
  it.skipIf(!promtool)('promtool check config accepts prometheus.yml and its rules', () => {
    const result = spawnSync('promtool', ['check', 'config', 'prometheus.yml'], {
      cwd: join(deploy, 'prometheus'),
    });
    expect(`${String(result.stdout)}${String(result.stderr)}`).toContain(
      'SUCCESS: 2 rule files found',
    );
    expect(result.status).toBe(0);
  });

  describe('scrapes /metrics as the API requires it', () => {
    let idp: TestIdentityProvider;
    let api: RunningApi;
    beforeAll(async () => {
      idp = await startTestIdentityProvider();
      api = await startDemoApi({ issuer: idp.issuer });
    });
    afterAll(async () => {
      await api?.close();
      await idp?.stop();
    });

    it('with the client-credentials grant of prometheus.yml, against the demo IdP and API', async () => {
      interface Oauth2 {
        client_id: string;
        token_url: string;
        scopes: string[];
        endpoint_params: Record<string, string>;
      }
      const config = await readYaml<{ scrape_configs: { oauth2: Oauth2 }[] }>(
        'prometheus/prometheus.yml',
      );
      const oauth2 = config.scrape_configs[0]?.oauth2 as Oauth2;
      expect(oauth2.token_url).toBe('http://127.0.0.1:4000/token');
      expect(oauth2.endpoint_params.resource).toBe(DEMO_AUDIENCE);
      expect(oauth2.scopes.join(' ')).toBe(DEMO_CLIENT_SCOPES[oauth2.client_id]);
      // The request Prometheus sends (client_secret_basic), to this machine's IdP.
      const response = await fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${oauth2.client_id}:metrics-scraper-secret`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: oauth2.scopes.join(' '),
          ...oauth2.endpoint_params,
        }),
      });
      expect(response.status).toBe(200);
      const { access_token: token } = (await response.json()) as { access_token: string };
      const scrape = await call(api, 'GET', '/metrics', { token });
      expect(scrape.status).toBe(200);
      expect(String(scrape.body.raw)).toContain('zero_trust_authentication_total');
      expect((await call(api, 'GET', '/metrics')).status).toBe(401);
    });
  });

  it('lists its targets in file service discovery', async () => {
    const targets = await readYaml<{ targets: string[] }[]>('prometheus/targets/api.yml');
    expect(targets[0]?.targets).toEqual(['127.0.0.1:3000']);
  });

  it('provisions the Prometheus data source and the dashboard Grafana loads', async () => {
    const sources = await readYaml<{ datasources: { type: string; url: string }[] }>(
      'grafana/provisioning/datasources/prometheus.yml',
    );
    expect(sources.datasources).toEqual([
      expect.objectContaining({
        type: 'prometheus',
        url: 'http://127.0.0.1:9090',
        isDefault: true,
      }),
    ]);
    const providers = await readYaml<{ providers: { options: { path: string } }[] }>(
      'grafana/provisioning/dashboards/zero-trust.yml',
    );
    const path = providers.providers[0]?.options.path;
    const compose = parse(interpolate(await readText('compose.yaml'), STACK_ENV)) as Compose;
    expect(compose.services.grafana?.volumes).toContain(
      `./grafana/zero-trust.json:${path}/zero-trust.json:ro`,
    );
    // The dashboard's JSON model: what Grafana needs to load it, every query on the data source
    // variable (so the provisioned default is picked), panels laid out on the grid.
    interface Panel {
      id: number;
      type: string;
      gridPos: { x: number; y: number; w: number; h: number };
      datasource?: { type: string; uid: string } | null;
      targets?: { expr: string; refId: string }[];
    }
    const dashboard = JSON.parse(await readText('grafana/zero-trust.json')) as {
      schemaVersion: number;
      title: string;
      templating: { list: { name: string; type: string; query: unknown }[] };
      panels: Panel[];
    };
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list[0]).toMatchObject({
      name: 'datasource',
      type: 'datasource',
      query: 'prometheus',
    });
    for (const panel of dashboard.panels) {
      expect(['row', 'stat', 'timeseries']).toContain(panel.type);
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect([panel.id, panel.datasource]).toEqual([
        panel.id,
        { type: 'prometheus', uid: '${datasource}' },
      ]);
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(refIds.length).toBeGreaterThan(0);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });
});

/** A decision record with every part an ECS event can carry. */
const RICH: DecisionEvent = {
  time: '2026-11-23T15:35:00.000Z',
  action: 'authz_fail',
  outcome: 'failure',
  decision: 'deny',
  code: 'ZT_ACCESS_DENIED',
  reason: 'Access denied',
  mode: 'enforce',
  principal: { kind: 'user', id: 'bob', client: 'demo-cli' },
  roles: ['customer'],
  request: { id: 'r-1', method: 'GET', route: '/invoices/:id', ip: '203.0.113.7' },
  authorization: { action: 'read', subject: 'Invoice', subjectId: 'inv-2', fields: ['total'] },
  rule: { kind: 'conditions', description: 'can read Invoice if { customerId }' },
  risk: { score: 40, reasons: [] },
  geo: { country_iso_code: 'FR', city_name: 'Paris', location: { lat: 48.85, lon: 2.35 } },
  binding: { certificate: 'q83vEjRWeJA', dpop: 'jkt-thumbprint' },
  device: 'device-1',
  stages: [{ action: 'authn_token_valid', decision: 'allow', mode: 'enforce' }],
};

/** Leaf paths of an object (`a.b.c`), arrays of scalars and geo points as leaves. */
function leaves(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  if (prefix.endsWith('location')) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

describe('the decision records path (Filebeat, Elasticsearch, Kibana)', () => {
  interface Mapping {
    type?: string;
    properties?: Record<string, Mapping>;
  }
  let mapping: Mapping;
  let patterns: string[];
  /** The mapping of a field, or of the object (labels, flattened stages) that holds it. */
  const mapped = (path: string): string | undefined => {
    let node: Mapping | undefined = mapping;
    for (const part of path.split('.')) {
      if (node?.type === 'flattened' || (node?.type === 'object' && !node.properties))
        return node.type;
      node = node?.properties?.[part];
    }
    return node?.type;
  };
  beforeAll(async () => {
    const template = JSON.parse(await readText('elk/index-template.json')) as {
      index_patterns: string[];
      template: { mappings: Mapping };
    };
    patterns = template.index_patterns;
    mapping = template.template.mappings;
  });

  it('maps every field of an ECS decision record (no field left to guessing)', () => {
    expect(patterns).toEqual(['zero-trust-decisions-*']);
    const paths = leaves(toEcsEvent(RICH, 'demo-api'));
    expect(paths).toContain('zero_trust.stages');
    expect(paths).toContain('tls.client.hash.sha256');
    for (const path of paths) expect([path, mapped(path)]).toEqual([path, expect.any(String)]);
    expect(mapped('source.ip')).toBe('ip');
    expect(mapped('@timestamp')).toBe('date');
    expect(mapped('event.action')).toBe('keyword');
    const service = toEcsEvent({ ...RICH, principal: { kind: 'service', id: 'billing-worker' } });
    expect(mapped(leaves(service).find((p) => p.startsWith('service.')) ?? '')).toBe('keyword');
  });

  it('ships the lines Filebeat keeps into the indices of the template', async () => {
    interface Filebeat {
      'filebeat.inputs': { paths: string[]; parsers: { ndjson: object }[] }[];
      processors: { drop_event?: { when: { not: { and: { has_fields: string[] }[] } } } }[];
      'output.elasticsearch': { index: string; username: string };
    }
    const filebeat = await readYaml<Filebeat>('elk/filebeat.yml');
    const compose = parse(interpolate(await readText('compose.yaml'), STACK_ENV)) as Compose;
    const logs = compose.services.filebeat?.volumes?.find((v) => v.includes('/var/log/zero-trust'));
    expect(filebeat['filebeat.inputs'][0]?.paths[0]).toMatch(
      new RegExp(`^${(logs ?? '').split(':')[1]}/`),
    );
    expect(filebeat['output.elasticsearch'].index).toMatch(/^zero-trust-decisions-/);
    const setup = await readText('elk/elasticsearch-setup.sh');
    expect(setup).toContain(`/_security/user/${filebeat['output.elasticsearch'].username}`);
    expect(setup).toContain('@/setup/index-template.json');
    // Every decision record, allowed or denied, has the fields Filebeat keeps lines by.
    const kept = filebeat.processors[0]?.drop_event?.when.not.and.flatMap((c) => c.has_fields);
    for (const record of [
      toEcsEvent(RICH),
      toEcsEvent({ ...RICH, decision: 'allow', outcome: 'success', action: 'authz_success' }),
    ])
      for (const field of kept ?? []) expect(leaves(record)).toContain(field);
  });

  it('saves searches for denials, step-ups and revocations over mapped fields and real actions', async () => {
    interface SavedObject {
      type: string;
      id: string;
      attributes: {
        title: string;
        columns?: string[];
        kibanaSavedObjectMeta?: { searchSourceJSON: string };
      };
      references: { type: string; id: string }[];
    }
    const objects = (await readText('elk/kibana/saved-objects.ndjson'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as SavedObject);
    const view = objects.find((o) => o.type === 'index-pattern');
    expect(view?.attributes.title).toBe('zero-trust-decisions-*');
    const searches = objects.filter((o) => o.type === 'search');
    expect(searches.map((s) => s.id)).toEqual([
      'zero-trust-denials',
      'zero-trust-step-ups',
      'zero-trust-revocations',
    ]);
    const library = await libraryActions();
    for (const search of searches) {
      expect(search.references).toEqual([expect.objectContaining({ id: view?.id })]);
      const source = JSON.parse(
        search.attributes.kibanaSavedObjectMeta?.searchSourceJSON ?? '{}',
      ) as {
        query: { query: string; language: string };
      };
      expect(source.query.language).toBe('kuery');
      const fields = [...source.query.query.matchAll(/([a-z_.]+) :/g)].map((m) => m[1] ?? '');
      for (const field of [...fields, ...(search.attributes.columns ?? [])])
        expect([search.id, field, mapped(field)]).toEqual([search.id, field, expect.any(String)]);
      for (const [, action] of source.query.query.matchAll(/"([a-z]+_[a-z_]+)"/g))
        expect([search.id, action, library.has(action ?? '')]).toEqual([search.id, action, true]);
    }
  });
});

/** The event.action values the library's source writes (quoted snake_case words). */
async function libraryActions(): Promise<Set<string>> {
  const files = spawnSync(
    'grep',
    ['-rhoE', "'(authn|authz|session|excess|malicious)_[a-z_]+'", 'libs/zero-trust/src'],
    {
      cwd: fileURLToPath(root),
    },
  );
  return new Set(
    String(files.stdout)
      .split('\n')
      .map((s) => s.replaceAll("'", '')),
  );
}
