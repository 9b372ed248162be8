import { describe, expect, it } from 'vitest';
import { validateOptions } from '../../options/validate-options.js';
import { createRiskSignalInput } from '../../testing/index.js';
import { INJECTION_SCAN_LIMITS } from './injection-rules.js';
import { InjectionSignal } from './injection.signal.js';

/** The `risk` option resolved as the module resolves it. */
const riskOptions = (risk: unknown) =>
  validateOptions({ issuer: 'https://issuer.test', audience: 'https://api.test', risk }).risk;

const NOW = new Date('2026-03-02T09:00:00Z');
const JWT =
  'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiInIE9SICcxJz0nMSIsInNjb3BlIjoiPHNjcmlwdD4ifQ.c2ln';

function signal(options: Record<string, unknown> = {}): InjectionSignal {
  const resolved = riskOptions({ injection: options }).injection;
  if (resolved === undefined) throw new Error('injection off');
  return new InjectionSignal(resolved);
}

describe('InjectionSignal', () => {
  it('finds payloads in the query, path, headers and nested body, naming only kind and part', () => {
    const reasons = signal().evaluate(
      createRiskSignalInput({
        now: NOW,
        url: '/files/..%2F..%2Fetc/passwd?q=1%27%20OR%20%271%27%3D%271',
        headers: { 'x-note': '<script>alert(1)</script>' },
        body: { items: [{ name: 'ok', command: 'report; cat /etc/shadow' }] },
      }),
    );
    expect(reasons).toEqual([
      {
        signal: 'injection',
        score: 90,
        reason: 'path traversal payload in the path',
        event: 'malicious_path_traversal',
      },
      {
        signal: 'injection',
        score: 90,
        reason: 'SQL injection payload in the query',
        event: 'malicious_sqli',
      },
      {
        signal: 'injection',
        score: 90,
        reason: 'cross-site scripting payload in the header',
        event: 'malicious_xss',
      },
      {
        signal: 'injection',
        score: 90,
        reason: 'command injection payload in the body',
        event: 'malicious_cmd_injection',
      },
    ]);
    expect(JSON.stringify(reasons)).not.toContain('passwd');
  });

  it('never scans Authorization, DPoP or Cookie values (tokens), nor skipped headers and fields', () => {
    const injection = signal({ skipHeaders: ['X-Free-Text'], skipFields: ['snippet'] });
    expect(
      injection.evaluate(
        createRiskSignalInput({
          now: NOW,
          headers: {
            authorization: `Bearer ${JWT}`,
            dpop: JWT,
            cookie: "session=' OR '1'='1",
            'x-free-text': '<script>',
          },
          body: { snippet: "SELECT 1 UNION SELECT password FROM users; --'" },
        }),
      ),
    ).toEqual([]);
  });

  it('leaves an ordinary invoice JSON body and browser headers alone', () => {
    expect(
      signal().evaluate(
        createRiskSignalInput({
          now: NOW,
          method: 'POST',
          url: '/invoices?include=lines&sort=-dueDate',
          headers: {
            'user-agent':
              'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
            accept: 'application/json, text/plain, */*',
            'accept-language': 'en-GB,en;q=0.9',
            'content-type': 'application/json; charset=utf-8',
          },
          body: {
            customerId: 'bob',
            amount: 1250.5,
            description: "O'Neil & Sons — consulting (March); see notes/2026/q1.pdf",
            dueDate: '2026-04-01',
            lines: [
              { label: 'Design <b>review</b>', qty: 2 },
              { label: 'Q&A; follow-up', qty: 1 },
            ],
            tags: ['urgent', 'select customers'],
          },
        }),
      ),
    ).toEqual([]);
  });

  const unscanned = (part: string, what: string) => ({
    signal: 'injection',
    score: 30,
    reason: `${part} not fully scanned for injection: ${what}`,
    event: 'input_validation_fail',
  });

  // On main each of these was a silent pass (no reason at all): issue 17 §8.
  it('reports a body nested past the depth limit, with a lower score, instead of passing it', () => {
    let deep: unknown = "' OR '1'='1";
    for (let i = 0; i < 50; i++) deep = { nested: deep };
    expect(signal().evaluate(createRiskSignalInput({ now: NOW, body: deep }))).toEqual([
      unscanned('body', 'nesting deeper than 12 levels'),
    ]);
  });
  it('reports a body with more values than it reads, even when the payload comes last', () => {
    const body = {
      padding: Array.from({ length: INJECTION_SCAN_LIMITS.values }, (_, i) => `line ${i}`),
      note: "' OR '1'='1",
    };
    expect(signal().evaluate(createRiskSignalInput({ now: NOW, body }))).toEqual([
      unscanned('body', 'more than 1000 values'),
    ]);
  });

  it('counts only text towards the limits: many numbers are no finding', () => {
    const body = { amounts: Array.from({ length: 5000 }, (_, i) => i), ok: true };
    expect(signal().evaluate(createRiskSignalInput({ now: NOW, body }))).toEqual([]);
  });

  it('reports a query with more parameters than it reads', () => {
    const query = Array.from({ length: INJECTION_SCAN_LIMITS.values + 1 }, (_, i) => `p${i}=1`);
    const url = `/invoices?${query.join('&')}&q=${encodeURIComponent("' OR '1'='1")}`;
    expect(signal().evaluate(createRiskSignalInput({ now: NOW, url }))).toEqual([
      unscanned('query', 'more than 1000 values'),
    ]);
  });

  it('reports a value longer than it reads, and still finds a payload in what it read', () => {
    const padding = 'a'.repeat(INJECTION_SCAN_LIMITS.length);
    const hidden = signal({ score: 60 }).evaluate(
      createRiskSignalInput({
        now: NOW,
        headers: { 'x-note': `${padding}<script>alert(1)</script>` },
      }),
    );
    expect(hidden).toEqual([
      { ...unscanned('header', 'a value longer than 8192 characters'), score: 20 },
    ]);
    const both = signal().evaluate(
      createRiskSignalInput({ now: NOW, body: { note: `<script>alert(1)</script>${padding}` } }),
    );
    expect(both.map((r) => [r.event, r.score])).toEqual([
      ['malicious_xss', 90],
      ['input_validation_fail', 30],
    ]);
  });

  it('finds an obfuscated payload in each part of the request', () => {
    const reasons = signal().evaluate(
      createRiskSignalInput({
        now: NOW,
        url: '/files/..%E2%88%95..%E2%88%95etc%E2%88%95passwd?q=1%20UNION%2F**%2FSELECT%20password',
        headers: { 'x-note': '\uff1cscript\uff1ealert(1)\uff1c/script\uff1e' },
        body: { name: '\u2019 OR \u20191\u2019=\u20191' },
      }),
    );
    expect(reasons.map((r) => r.reason)).toEqual([
      'path traversal payload in the path',
      'SQL injection payload in the query',
      'cross-site scripting payload in the header',
    ]);
    const body = signal().evaluate(
      createRiskSignalInput({ now: NOW, body: { name: '\u2019 OR \u20191\u2019=\u20191' } }),
    );
    expect(body.map((r) => r.reason)).toEqual(['SQL injection payload in the body']);
  });
});
