import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../../errors/zero-trust.error.js';
import { MAX_XFCC_LENGTH, parseXfcc } from './xfcc.js';

/** Why `parseXfcc` refused a header: `ZT_XFCC_MALFORMED`, the reason in its cause. */
function refusal(header: string): string {
  try {
    parseXfcc(header);
    return 'accepted';
  } catch (error) {
    const { code, cause } = error as { code?: string; cause?: Error };
    return `${code} (${cause?.message})`;
  }
}

const plain = (elements: ReturnType<typeof parseXfcc>): Record<string, string[]>[] =>
  elements.map((element) => Object.fromEntries([...element].map(([k, v]) => [k, [...v]])));

describe('parseXfcc', () => {
  it('parses the Envoy examples: several elements, repeated and quoted values', () => {
    const header =
      'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com,By=spiffe://demo.local/edge;URI=spiffe://demo.local/a;DNS=a.local;DNS=b.local';
    expect(plain(parseXfcc(header))).toEqual([
      {
        by: ['http://frontend.lyft.com'],
        hash: ['468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688'],
        subject: ['/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client'],
        uri: ['http://testclient.lyft.com'],
      },
      {
        by: ['spiffe://demo.local/edge'],
        uri: ['spiffe://demo.local/a'],
        dns: ['a.local', 'b.local'],
      },
    ]);
  });

  it('keeps separators and escaped quotes inside quoted values, and ignores key case', () => {
    expect(plain(parseXfcc('SUBJECT="CN=a,O=b;c=\\"d\\""; uRi=x'))).toEqual([
      { subject: ['CN=a,O=b;c="d"'], uri: ['x'] },
    ]);
  });

  it.each([
    ['empty', ''],
    ['no equals sign', 'By'],
    ['empty key', '=value'],
    ['key with symbols', 'B-y=x'],
    ['unterminated quote', 'Cert="abc'],
    ['text after a quoted value', 'Cert="abc"def'],
    ['a quote inside an unquoted value', 'URI=ab"c'],
    ['an equals sign inside an unquoted value', 'Subject=CN=a'],
    ['a trailing separator', 'By=a;'],
    ['an empty element', 'By=a,,By=b'],
    ['a newline', 'By=a\nURI=b'],
    ['a NUL byte', 'By=a\u0000'],
  ])('refuses %s', (_name, header) => {
    expect(refusal(header)).toMatch(/^ZT_XFCC_MALFORMED \(Malformed X-Forwarded-Client-Cert: /);
  });

  it('bounds the size, the number of elements and of pairs', () => {
    expect(refusal(`By=${'a'.repeat(MAX_XFCC_LENGTH)}`)).toMatch(/^ZT_XFCC_MALFORMED .*too large/);
    expect(refusal(Array.from({ length: 17 }, () => 'By=a').join(','))).toMatch(
      /^ZT_XFCC_MALFORMED .*too many elements/,
    );
    expect(refusal(Array.from({ length: 65 }, () => 'DNS=a').join(';'))).toMatch(
      /^ZT_XFCC_MALFORMED .*too many pairs/,
    );
    expect(parseXfcc(Array.from({ length: 16 }, () => 'By=a').join(','))).toHaveLength(16);
  });

  it('never throws anything but ZT_XFCC_MALFORMED on random input', () => {
    const alphabet = 'ab=;,"\\ \tURIHash';
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 2000; i++) {
      const length = Math.floor(random() * 30);
      let header = '';
      for (let j = 0; j < length; j++) header += alphabet[Math.floor(random() * alphabet.length)];
      let thrown: unknown;
      try {
        parseXfcc(header);
      } catch (error) {
        thrown = error;
      }
      expect(
        thrown === undefined ||
          (thrown instanceof InvalidTokenError && thrown.code === 'ZT_XFCC_MALFORMED'),
      ).toBe(true);
    }
  });
});
