/** One XFCC element (what one proxy saw of its client): lowercased keys, their values. @internal */
export type XfccElement = ReadonlyMap<string, readonly string[]>;

/** Largest header accepted: a certificate chain fits well below. */
export const MAX_XFCC_LENGTH = 32_768;
const MAX_ELEMENTS = 16;
const MAX_PAIRS = 64;
/** One `key=value` pair (quoted or not) and the separator after it; sticky, back to back. */
const PAIR = /[ \t]*([A-Za-z]+)[ \t]*=(?:"((?:[^"\\]|\\.)*)"[ \t]*|([^";,=]*))([;,]|$)/y;

/** The header was not a well-formed XFCC value. @internal */
export class XfccSyntaxError extends Error {
  constructor(reason: string) {
    super(`Malformed X-Forwarded-Client-Cert: ${reason}`);
    this.name = 'XfccSyntaxError';
  }
}

/** Parses an Envoy `X-Forwarded-Client-Cert` header, bounded, or throws. @internal */
export function parseXfcc(header: string): XfccElement[] {
  if (header.length === 0) throw new XfccSyntaxError('empty header');
  if (header.length > MAX_XFCC_LENGTH) throw new XfccSyntaxError('header too large');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(header)) throw new XfccSyntaxError('control character');
  const pair = new RegExp(PAIR);
  const elements: XfccElement[] = [];
  let current = new Map<string, string[]>();
  for (let pairs = 1; ; pairs++) {
    if (pairs > MAX_PAIRS) throw new XfccSyntaxError('too many pairs');
    const match = pair.exec(header);
    if (match === null) throw new XfccSyntaxError('expected key=value');
    const [, key = '', quoted, unquoted = '', separator] = match;
    const value = quoted === undefined ? unquoted.trim() : quoted.replace(/\\(.)/g, '$1');
    const name = key.toLowerCase();
    current.set(name, [...(current.get(name) ?? []), value]);
    if (separator === '') {
      elements.push(current);
      return elements;
    }
    if (separator === ',') {
      elements.push(current);
      if (elements.length >= MAX_ELEMENTS) throw new XfccSyntaxError('too many elements');
      current = new Map();
    }
  }
}
