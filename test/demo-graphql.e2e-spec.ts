import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMutualTlsSettings } from '../apps/demo-api/src/mtls.js';
import { ADAPTERS, call, startDemoApi, type RunningApi } from './support/demo-api.js';
import {
  startTestIdentityProvider,
  workloadTls,
  type TestIdentityProvider,
} from './support/identity.js';

/*
 * The demo API's invoices at /graphql, under the REST routes' policies, with real tokens of the
 * demo IdP (on CASL, or on Cerbos with POLICY_ENGINE=cerbos); then what an attacker tries on a
 * GraphQL endpoint: introspection, aliases, batches, oversized documents.
 */
type Tokens = Record<'alice' | 'bob' | 'carol' | 'billing-worker' | 'reporting-service', string>;

let idp: TestIdentityProvider;
let tokens: Tokens;

beforeAll(async () => {
  idp = await startTestIdentityProvider();
  tokens = {
    alice: await idp.userToken('alice'),
    bob: await idp.userToken('bob'),
    carol: await idp.userToken('carol'),
    'billing-worker': await idp.serviceToken('billing-worker'),
    'reporting-service': await idp.serviceToken('reporting-service'),
  };
});
afterAll(async () => {
  await idp?.stop();
});

interface GraphqlError {
  message: string;
  path?: (string | number)[];
  extensions: { code?: string; zt?: string };
}
interface GraphqlAnswer {
  status: number;
  data: Record<string, unknown> | null | undefined;
  errors: GraphqlError[] | undefined;
  headers: Headers;
}

/** Posts a GraphQL document (or any JSON body) to the demo API's /graphql. */
async function graphql(
  api: RunningApi,
  query: string | unknown[],
  options: { token?: string; tls?: ReturnType<typeof workloadTls> } = {},
): Promise<GraphqlAnswer> {
  const body = typeof query === 'string' ? { query } : query;
  const answer = await call(api, 'POST', '/graphql', { ...options, body });
  const { data, errors } = answer.body as {
    data?: Record<string, unknown>;
    errors?: GraphqlError[];
  };
  return { status: answer.status, data, errors, headers: answer.headers };
}

const codes = (answer: GraphqlAnswer) =>
  answer.errors?.map((error) => [
    error.path?.join('.'),
    error.extensions.code,
    error.extensions.zt,
  ]);

describe.each(ADAPTERS)('demo API at /graphql with real IdP tokens (%s)', (adapter) => {
  let api: RunningApi;
  const worker = () => ({ token: tokens['billing-worker'], tls: workloadTls(idp) });

  beforeAll(async () => {
    api = await startDemoApi(
      { issuer: idp.issuer, adapter },
      { mtls: await readMutualTlsSettings(idp.dataDir) },
    );
  });
  afterAll(async () => {
    await api?.close();
  });

  it('scopes the invoices list as GET /invoices: bob his own, accountants and admins all, billing the issued', async () => {
    const ids = async (options: { token?: string; tls?: ReturnType<typeof workloadTls> }) => {
      const answer = await graphql(api, '{ invoices { id } }', options);
      expect(answer.errors).toBeUndefined();
      const invoices = (answer.data?.invoices ?? []) as { id: string }[];
      return invoices.map((invoice) => invoice.id).sort();
    };
    expect(await ids({ token: tokens.bob })).toEqual(['inv-1', 'inv-3']);
    expect(await ids({ token: tokens.alice })).toEqual(['inv-1', 'inv-2', 'inv-3']);
    expect(await ids({ token: tokens.carol })).toEqual(['inv-1', 'inv-2', 'inv-3']);
    expect(await ids(worker())).toEqual(['inv-2']);
    // reporting-service holds no invoices:read scope.
    const reporting = await graphql(api, '{ invoices { id } }', {
      token: tokens['reporting-service'],
    });
    expect(codes(reporting)).toEqual([['invoices', 'FORBIDDEN', 'ZT_INSUFFICIENT_SCOPE']]);
  });

  it('checks an invoice against the loaded record: refused for another customer, NOT_FOUND when absent', async () => {
    const answer = await graphql(
      api,
      '{ own: invoice(id: "inv-1") { id customerId } other: invoice(id: "inv-2") { id } none: invoice(id: "inv-404") { id } }',
      { token: tokens.bob },
    );
    expect(answer.status).toBe(200);
    expect(answer.data).toEqual({
      own: { id: 'inv-1', customerId: 'bob' },
      other: null,
      none: null,
    });
    expect(codes(answer)?.sort()).toEqual([
      ['none', 'NOT_FOUND', 'ZT_RESOURCE_NOT_FOUND'],
      ['other', 'FORBIDDEN', 'ZT_ACCESS_DENIED'],
    ]);
    // One decision record per field, under the operation's request id, with the record's id.
    const records = api.sink.events.slice(-3);
    expect(new Set(records.map((event) => event.request.id)).size).toBe(1);
    const decided = records.map((e) => `${e.decision} ${e.authorization?.subjectId ?? '-'}`);
    expect(decided.sort((a, b) => a.localeCompare(b))).toEqual([
      'allow inv-1',
      'deny -',
      'deny inv-2',
    ]);
  });

  it('updates as PATCH /invoices/:id does: her own drafts, permitted fields, permitted transitions', async () => {
    const ok = await graphql(
      api,
      'mutation { updateInvoice(id: "inv-1", description: "Consulting, Oct. (GraphQL)") { id description } }',
      { token: tokens.alice },
    );
    expect(ok.data).toEqual({
      updateInvoice: { id: 'inv-1', description: 'Consulting, Oct. (GraphQL)' },
    });
    // inv-3 is another accountant's, bob is a customer, paid is no transition of a draft.
    const refused = await graphql(
      api,
      'mutation { other: updateInvoice(id: "inv-3", description: "x") { id } paid: updateInvoice(id: "inv-1", status: "paid") { id } }',
      { token: tokens.alice },
    );
    expect(refused.data).toEqual({ other: null, paid: null });
    expect(codes(refused)).toEqual([
      ['other', 'FORBIDDEN', 'ZT_ACCESS_DENIED'],
      ['paid', 'FORBIDDEN', 'ZT_ACCESS_DENIED'],
    ]);
    const bob = await graphql(api, 'mutation { updateInvoice(id: "inv-1", amount: 1) { id } }', {
      token: tokens.bob,
    });
    expect(codes(bob)).toEqual([['updateInvoice', 'FORBIDDEN', 'ZT_ACCESS_DENIED']]);
    // billing-worker: the status only, issued to paid only.
    const amount = await graphql(
      api,
      'mutation { updateInvoice(id: "inv-2", status: "paid", amount: 0) { id } }',
      worker(),
    );
    expect(codes(amount)).toEqual([['updateInvoice', 'FORBIDDEN', 'ZT_FIELDS_DENIED']]);
    const paid = await graphql(
      api,
      'mutation { updateInvoice(id: "inv-2", status: "paid") { id status } }',
      worker(),
    );
    expect(paid.data).toEqual({ updateInvoice: { id: 'inv-2', status: 'paid' } });
    // reporting-service has no invoices:write scope.
    const reporting = await graphql(
      api,
      'mutation { updateInvoice(id: "inv-1", description: "x") { id } }',
      { token: tokens['reporting-service'] },
    );
    expect(codes(reporting)).toEqual([['updateInvoice', 'FORBIDDEN', 'ZT_INSUFFICIENT_SCOPE']]);
  });

  it("refuses billing-worker's certificate-bound token without its certificate", async () => {
    const answer = await graphql(api, '{ invoices { id } }', { token: tokens['billing-worker'] });
    expect(answer.status).toBe(401);
    expect(answer.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('answers an operation without a valid token with 401 and the challenge', async () => {
    const [header, payload] = tokens.bob.split('.');
    for (const token of [undefined, `${header}.${payload}.forged`]) {
      const answer = await graphql(
        api,
        '{ invoices { id } }',
        token === undefined ? {} : { token },
      );
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(answer.data?.invoices ?? null).toBeNull();
    }
  });

  it('serves no introspection, even to an authenticated caller', async () => {
    for (const token of [undefined, tokens.carol]) {
      const answer = await graphql(api, '{ __schema { types { name } } }', token ? { token } : {});
      expect(answer.status).toBe(400);
      expect(answer.errors?.[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(JSON.stringify(answer)).not.toContain('InvoicePatch');
    }
  });

  it('refuses a batch (a mutation hidden behind a query) without running any of it', async () => {
    const answer = await graphql(
      api,
      [
        { query: '{ invoices { id } }' },
        { query: 'mutation { updateInvoice(id: "inv-1", description: "batched") { id } }' },
      ],
      { token: tokens.alice },
    );
    expect(answer.status).toBe(400);
    const after = await graphql(api, '{ invoice(id: "inv-1") { description } }', {
      token: tokens.alice,
    });
    expect(after.data).not.toEqual({ invoice: { description: 'batched' } });
  });

  it('refuses an oversized document before parsing it (413)', async () => {
    const padding = ' '.repeat(2 * 1024 * 1024);
    const answer = await call(api, 'POST', '/graphql', {
      token: tokens.bob,
      body: { query: `{ invoices { id } ${padding}}` },
    });
    expect(answer.status).toBe(413);
  });
});

describe('demo API at /graphql: aliases against the rate limit', () => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await startDemoApi({ issuer: idp.issuer, rateLimitPerMinute: 5 });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('counts each root field as a request: aliases cannot multiply calls past the limit', async () => {
    const aliases = Array.from({ length: 8 }, (_, i) => `a${i}: invoice(id: "inv-1") { id }`);
    const answer = await graphql(api, `{ ${aliases.join(' ')} }`, { token: tokens.bob });
    const served = Object.values(answer.data ?? {}).filter((value) => value !== null);
    expect(served).toHaveLength(5);
    expect(answer.errors).toHaveLength(3);
    for (const error of answer.errors ?? [])
      expect(error.extensions).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
  });
});
