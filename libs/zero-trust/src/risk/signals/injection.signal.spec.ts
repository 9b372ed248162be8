import { describe, expect, it } from 'vitest';
import { validateRisk } from '../../options/validate-risk.js';
import { createRiskSignalInput } from '../../testing/index.js';
import { InjectionSignal } from './injection.signal.js';

const NOW = new Date('2026-03-02T09:00:00Z');
const JWT =
  'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiInIE9SICcxJz0nMSIsInNjb3BlIjoiPHNjcmlwdD4ifQ.c2ln';

function signal(options: Record<string, unknown> = {}): InjectionSignal {
  const resolved = validateRisk({ injection: options }, []).injection;
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

  it('stops walking pathological bodies', () => {
    let deep: unknown = "' OR '1'='1";
    for (let i = 0; i < 50; i++) deep = { nested: deep };
    expect(signal().evaluate(createRiskSignalInput({ now: NOW, body: deep }))).toEqual([]);
  });
});
