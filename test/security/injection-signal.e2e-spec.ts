import type { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADAPTERS,
  call,
  lastRequestEvents,
  startDemoApi,
  startDemoIssuer,
  type RunningApi,
} from '../support/demo-api.js';

/**
 * The injection signal against the running demo (issue 17 §8): an obfuscated payload raises
 * the same risk reason as a plain one, and a request past the scan limits is a finding of its
 * own rather than a clean pass. On `main` every request below was assessed at risk 0.
 */
describe.each(ADAPTERS)('injection signal, obfuscated and oversized input (%s)', (adapter) => {
  let issuer: TestIssuer;
  let api: RunningApi;
  let sequence = 0;
  // A fresh principal per request: no device, place or failure history to add to the score.
  const token = (): string =>
    issuer.sign({
      sub: `alice-injection-${adapter}-${++sequence}`,
      roles: ['accountant'],
      scope: 'invoices:read invoices:write',
    });

  beforeAll(async () => {
    issuer = await startDemoIssuer();
    api = await startDemoApi({ issuer: issuer.url, adapter, riskMode: 'enforce' });
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  it.each([
    [
      'SQL comments standing for whitespace, in the query',
      { query: '?q=1%20UnIoN--x%0ASeLeCt%20password%20FROM%20users' },
      'malicious_sqli',
      'SQL injection payload in the query',
    ],
    [
      'a malformed escape after an encoded payload, in the query',
      { query: '?q=%2527%2520OR%2520%25271%2527%253D%25271%25zz' },
      'malicious_sqli',
      'SQL injection payload in the query',
    ],
    [
      'look-alike quotes (U+2019), in the body',
      { body: { customerId: 'bob', amount: 1, description: '\u2019 OR \u20191\u2019=\u20191' } },
      'malicious_sqli',
      'SQL injection payload in the body',
    ],
    [
      'fullwidth markup (U+FF1C, U+FF1E), URL-encoded, in a header',
      { headers: { 'x-note': '%EF%BC%9Cscript%EF%BC%9Ealert(1)%EF%BC%9C/script%EF%BC%9E' } },
      'malicious_xss',
      'cross-site scripting payload in the header',
    ],
    [
      'division slashes (U+2215), URL-encoded, in the query',
      { query: '?file=..%E2%88%95..%E2%88%95etc%E2%88%95passwd' },
      'malicious_path_traversal',
      'path traversal payload in the query',
    ],
  ])('refuses %s', async (_name, request, event, reason) => {
    const {
      query = '',
      body,
      headers,
    } = request as {
      query?: string;
      body?: unknown;
      headers?: Record<string, string>;
    };
    const method = body === undefined ? 'GET' : 'POST';
    const response = await call(api, method, `/invoices${query}`, {
      token: token(),
      body,
      headers,
    });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('ZT_RISK_DENIED');
    const finding = lastRequestEvents(api).find((e) => e.action === event);
    expect(finding).toMatchObject({ decision: 'deny', reason, risk: { score: 90 } });
    // The payload is never echoed into the audit trail.
    expect(JSON.stringify(api.sink.events)).not.toContain('passwd');
  });

  it('judges a GraphQL operation as a request: a payload in its variables is refused, a plain one served', async () => {
    const graphql = async (variables: Record<string, string>) =>
      call(api, 'POST', '/graphql', {
        token: token(),
        body: { query: 'query ($id: ID!) { invoice(id: $id) { id } }', variables },
      });
    const clean = await graphql({ id: 'inv-1' });
    expect(clean.body).toEqual({ data: { invoice: { id: 'inv-1' } } });
    const refused = await graphql({ id: "inv-1' UNION SELECT password FROM users--" });
    const { data, errors } = refused.body as {
      data?: unknown;
      errors?: { extensions: { zt?: string } }[];
    };
    expect(data).toEqual({ invoice: null });
    expect(errors?.map((error) => error.extensions.zt)).toEqual(['ZT_RISK_DENIED']);
    expect(lastRequestEvents(api).find((e) => e.action === 'malicious_sqli')).toMatchObject({
      decision: 'deny',
      reason: 'SQL injection payload in the body',
    });
  });

  it('records a body past the scan limits as its own finding, with a lower score', async () => {
    let deep: unknown = "' OR '1'='1";
    for (let i = 0; i < 20; i++) deep = { nested: deep };
    const response = await call(api, 'POST', '/invoices', {
      token: token(),
      body: { customerId: 'bob', amount: 1, notes: deep },
    });
    // 30 alone is under the step-up bar (40): the request proceeds, but not as clean.
    expect(response.status).toBe(201);
    const events = lastRequestEvents(api);
    expect(events.find((e) => e.action === 'input_validation_fail')).toMatchObject({
      decision: 'allow',
      reason: 'body not fully scanned for injection: nesting deeper than 12 levels',
      risk: { score: 30 },
    });
    expect(events.some((e) => e.action.startsWith('malicious_'))).toBe(false);
  });

  it('leaves an ordinary request with typographic quotes alone', async () => {
    const response = await call(api, 'POST', '/invoices', {
      token: token(),
      body: {
        customerId: 'bob',
        amount: 1,
        description: 'O\u2019Neil \u201cDesign\u201d, 1\u20442',
      },
    });
    expect(response.status).toBe(201);
    expect(lastRequestEvents(api).find((e) => e.action === 'risk_assessed')).toMatchObject({
      risk: { score: 0 },
    });
  });
});
