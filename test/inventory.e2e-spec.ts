/**
 * The route inventory command (`npx nestjs-zero-trust routes`), run as the built bin in its own
 * process: against the demo API's module (a real boot, in-memory store, no server contacted) and
 * against test applications with a route of each transport and unprotected routes.
 */
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { transformFile } from '@swc/core';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaky } from './fixtures/inventory-app.js';
import { buildDemo } from './support/demo-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LIBRARY = join(ROOT, 'libs/zero-trust');
// Inside the repository, so that the compiled fixture resolves its packages as an app would.
const FIXTURES = join(ROOT, `node_modules/.cache/inventory-test-${process.pid}`);
const FIXTURE = join(FIXTURES, 'app.js');
const DEMO = 'apps/demo-api/dist/inventory.js';

interface Route {
  transport: string;
  method: string;
  path: string;
  handler: string;
  policy: {
    public: boolean;
    authenticated: boolean;
    scopes: string[];
    checks: { action: string; subject: string; resolver: string | null; typeLevel: boolean }[];
    none: boolean;
  };
  risk: { mode: string; policy: Record<string, unknown> } | null;
  mode: string;
  modeFrom: string;
}
interface Inventory {
  mode: string;
  strictRouteAudit: boolean;
  routes: Route[];
  warnings: string[];
}

/** The bin of the package's `bin` entry, as `npx nestjs-zero-trust` runs it. */
function bin(): string {
  const manifest = JSON.parse(readFileSync(join(LIBRARY, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  return join(LIBRARY, manifest.bin['nestjs-zero-trust'] ?? 'missing');
}

/** Runs the command; resolves with its exit code and output. */
function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin(), ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function inventory(args: string[], env: Record<string, string> = {}): Promise<Inventory> {
  const { code, stdout, stderr } = await run([...args, '--json'], env);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as Inventory;
}

const route = (inv: Inventory, method: string, path: string): Route | undefined =>
  inv.routes.find((r) => r.method === method && r.path === path);

const fixture = (name: string) => ['routes', '--module', FIXTURE, '--export', name];
const demo = ['routes', '--module', DEMO, '--export', 'inventory'];

beforeAll(async () => {
  await buildDemo();
  const { code } = await transformFile(join(ROOT, 'test/fixtures/inventory-app.ts'), {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
    },
    module: { type: 'es6' },
  });
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(FIXTURE, code);
}, 180_000);

afterAll(() => rmSync(FIXTURES, { recursive: true, force: true }));

describe('the demo API inventory', () => {
  it('lists its routes with their policies, resolvers, scopes, risk policies and mode', async () => {
    // An unreachable Redis: the inventory keeps the store in memory and contacts no server.
    const inv = await inventory(demo, { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(inv).toMatchObject({ mode: 'enforce', strictRouteAudit: true });
    expect(route(inv, 'GET', '/invoices/:id')).toMatchObject({
      transport: 'http',
      handler: 'InvoicesController.get',
      policy: {
        public: false,
        scopes: ['invoices:read'],
        checks: [{ action: 'read', subject: 'Invoice', resolver: 'InvoiceResolver' }],
        none: false,
      },
      risk: { mode: 'enforce', policy: {} },
      mode: 'enforce',
      modeFrom: 'module',
    });
    expect(route(inv, 'DELETE', '/invoices/:id')?.risk).toEqual({
      mode: 'enforce',
      policy: { maxScore: 30, acr: 'urn:demo:acr:mfa', maxAuthAge: 300 },
    });
    expect(route(inv, 'GET', '/me')?.policy).toMatchObject({ authenticated: true, checks: [] });
    expect(route(inv, 'GET', '/health')?.policy.public).toBe(true);
    expect(route(inv, 'POST', '/ssf/events')?.handler).toBe('SharedSignalsController.receive');
    expect(inv.routes.filter((r) => r.policy.none)).toEqual([]);
    expect(inv.warnings).toEqual([]);
  });

  it('prints the same JSON twice, sorted by transport, path and method (a diff shows changes only)', async () => {
    const [first, second] = await Promise.all([run([...demo, '--json']), run([...demo, '--json'])]);
    expect(first.stdout).toBe(second.stdout);
    const keys = (JSON.parse(first.stdout) as Inventory).routes.map((r) =>
      [r.transport, r.path, r.method].join(' '),
    );
    expect(keys).toEqual([...keys].sort());
  });

  it('shows the mode the API runs in (AUTHZ_MODE=report-only)', async () => {
    const inv = await inventory(demo, { AUTHZ_MODE: 'report-only', RISK_MODE: 'off' });
    expect(inv.mode).toBe('report-only');
    expect(inv.routes.every((r) => r.mode === 'report-only' && r.risk === null)).toBe(true);
    // Risk off: the step-up routes' @RiskPolicy cannot apply, which the audit warns about.
    expect(inv.warnings).toEqual([
      'DELETE /invoices/:id (InvoicesController.remove) has @RiskPolicy but the module has no `risk` option: it would never apply',
      'POST /admin/revocations (RevocationsController.revoke) has @RiskPolicy but the module has no `risk` option: it would never apply',
    ]);
    const { stdout } = await run(demo, { AUTHZ_MODE: 'report-only', RISK_MODE: 'off' });
    expect(stdout).toContain(
      'Warnings of the route audit:\n  - DELETE /invoices/:id (InvoicesController.remove) has @RiskPolicy',
    );
  });

  it('prints a table by default', async () => {
    const { code, stdout } = await run(demo);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^TRANSPORT\s+METHOD\s+PATH\s+HANDLER\s+MODE\s+RISK\s+POLICY$/);
    expect(stdout).toMatch(
      /http\s+GET\s+\/invoices\/:id\s+InvoicesController\.get\s+enforce\s+module\s+@Scopes\(invoices:read\) @Can\(read, Invoice, resolve InvoiceResolver\)\n/,
    );
    expect(stdout).toMatch(
      /DELETE\s+\/invoices\/:id .* maxScore=30 acr=urn:demo:acr:mfa maxAuthAge=300 /,
    );
    expect(stdout).toMatch(/GET\s+\/me\s+MeController\.me\s+enforce\s+module\s+@Authenticated\n/);
    expect(stdout).toContain('routes, mode enforce, strictRouteAudit true');
  });
});

describe('every transport', () => {
  it('lists HTTP routes, message and event patterns, GraphQL root fields and socket messages', async () => {
    const inv = await inventory(fixture('AppModule'));
    const summary = inv.routes.map(
      (r) => `${r.transport} ${r.method} ${r.path} ${r.handler} ${r.mode}`,
    );
    expect(summary).toEqual([
      'graphql QUERY invoiceCount InvoiceQueries.count enforce',
      'http GET /invoices InvoicesController.list enforce',
      'http GET /invoices/export InvoicesController.export report-only',
      'http GET /invoices/health InvoicesController.health enforce',
      'message MESSAGE invoice.get BillingMessages.get enforce',
      'message EVENT {"cmd":"invoice.paid"} BillingMessages.paid enforce',
      'websocket MESSAGE /ws invoice InvoiceGateway.invoice enforce',
    ]);
    expect(route(inv, 'GET', '/invoices/export')?.modeFrom).toBe('route');
    expect(route(inv, 'QUERY', 'invoiceCount')?.policy.checks).toEqual([
      { action: 'read', subject: 'Invoice', resolver: null, typeLevel: false, fields: null },
    ]);
    expect(route(inv, 'EVENT', '{"cmd":"invoice.paid"}')?.policy.authenticated).toBe(true);
  });
});

describe('unprotected routes', () => {
  it('strict (the default): the boot error, listing every one, exit 1', async () => {
    const { code, stdout, stderr } = await run(fixture('strict'));
    expect([code, stdout]).toEqual([1, '']);
    expect(stderr).toBe(
      [
        'nestjs-zero-trust routes: the application did not boot: [ZT_ROUTES_UNPROTECTED] Routes without an access policy:',
        '  - GET /leaky (LeakyController.forgotten) has no @Public, @Authenticated, @Scopes or @Can',
        '  - GET /leaky/too (LeakyController.alsoForgotten) has no @Public, @Authenticated, @Scopes or @Can',
        '',
      ].join('\n'),
    );
  });

  it('enforced without strictRouteAudit: listed with no policy, denied', async () => {
    const inv = await inventory(fixture('enforced'));
    expect(inv).toMatchObject({ mode: 'enforce', strictRouteAudit: false });
    expect(inv.routes.map((r) => [r.path, r.policy.none, r.mode])).toEqual([
      ['/leaky', true, 'enforce'],
      ['/leaky/too', true, 'enforce'],
    ]);
    const { stdout } = await run(fixture('enforced'));
    expect(stdout).toMatch(
      /GET\s+\/leaky\s+LeakyController\.forgotten\s+enforce\s+off\s+NONE \(denied\)\n/,
    );
    expect(stdout).toContain('2 without a policy');
    expect(inv.warnings).toEqual([
      'GET /leaky (LeakyController.forgotten) has no @Public, @Authenticated, @Scopes or @Can: every request to it is denied',
      'GET /leaky/too (LeakyController.alsoForgotten) has no @Public, @Authenticated, @Scopes or @Can: every request to it is denied',
    ]);
  });

  it('report-only: listed as served and recorded as would-deny', async () => {
    const inv = await inventory(fixture('reportOnly'));
    expect(inv.routes.map((r) => [r.path, r.policy.none, r.mode])).toEqual([
      ['/leaky', true, 'report-only'],
      ['/leaky/too', true, 'report-only'],
    ]);
    const { stdout } = await run(fixture('reportOnly'));
    expect(stdout).toMatch(/report-only\s+off\s+NONE \(served, would-deny\)\n/);
  });

  describe('what the table says is what a request gets', () => {
    let issuer: TestIssuer;
    const apps: INestApplication[] = [];
    beforeAll(async () => {
      issuer = await TestIssuer.start();
    });
    afterAll(async () => {
      await Promise.all(apps.map((app) => app.close()));
      await issuer.close();
    });

    it.each([
      ['enforce', 403],
      ['report-only', 200],
    ] as const)('%s: %i', async (mode, status) => {
      const module = await Test.createTestingModule({
        imports: [
          leaky({ issuer: issuer.url, audience: issuer.audience, strictRouteAudit: false, mode }),
        ],
      }).compile();
      const app = module.createNestApplication({ logger: false });
      apps.push(app);
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/leaky`, {
        headers: { authorization: `Bearer ${issuer.sign({ sub: 'alice' })}` },
      });
      expect(response.status).toBe(status);
    });
  });
});

describe('bad input: a clear message, no stack trace', () => {
  const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

  it.each([
    [['routes', '--module', 'missing.js'], 1, /routes: no such file: .*missing\.js\n$/],
    [fixture('Nope'), 1, /has no export "Nope" \(its exports: .*AppModule.*\)/],
    [fixture('notAModule'), 1, /export "notAModule" of .* is not a module: give a module class/],
    [fixture('broken'), 1, /export "broken" of .* threw: DATABASE_URL is not set\n$/],
    [
      fixture('badOptions'),
      1,
      /did not boot: \[ZT_OPTIONS_INVALID\] Invalid ZeroTrustModule options:\n {2}- issuer must be an https URL.*\n {2}- audience is required/,
    ],
    [
      fixture('missingProvider'),
      1,
      /did not boot: Nest can't resolve dependencies of the MailController/,
    ],
    [fixture('PlainModule'), 1, /the application does not import ZeroTrustModule/],
    [['routes'], 2, /--module is required\n\nUsage: nestjs-zero-trust routes/],
    [['routes', '--module', FIXTURE, '--verbose'], 2, /Unknown option '--verbose'/],
    [['inventory', '--module', FIXTURE], 2, /unknown command "inventory"/],
  ])('%j: exit %i', async (args, status, message) => {
    const { code, stdout, stderr } = await run(args);
    expect([code, stdout]).toEqual([status, '']);
    expect(stderr).toMatch(message);
    noStack(stderr);
  });
});
