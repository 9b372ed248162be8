import { InvalidTokenError } from '../../errors/zero-trust.error.js';

/** One XFCC element (what one proxy saw of its client): lowercased keys, their values. @internal */
export type XfccElement = ReadonlyMap<string, readonly string[]>;

/** Largest header accepted: a certificate chain fits well below. */
export const MAX_XFCC_LENGTH = 32_768;
const MAX_ELEMENTS = 16;
const MAX_PAIRS = 64;
/** One `key=value` pair (quoted or not) and the separator after it; sticky, back to back. */
const PAIR = /[ \t]*([A-Za-z]+)[ \t]*=(?:"((?:[^"\\]|\\.)*)"[ \t]*|([^";,=]*))([;,]|$)/y;

/** `ZT_XFCC_MALFORMED`; the reason stays in its cause, for logs, never in the answer. @internal */
export const malformedXfcc = (reason: string): InvalidTokenError =>
  new InvalidTokenError('ZT_XFCC_MALFORMED', {
    cause: new Error(`Malformed X-Forwarded-Client-Cert: ${reason}`),
  });

/** Parses an Envoy `X-Forwarded-Client-Cert` header, bounded, else `ZT_XFCC_MALFORMED`. @internal */
export function parseXfcc(header: string): XfccElement[] {
  if (header.length === 0) throw malformedXfcc('empty header');
  if (header.length > MAX_XFCC_LENGTH) throw malformedXfcc('header too large');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(header)) throw malformedXfcc('control character');
  const pair = new RegExp(PAIR);
  const elements: XfccElement[] = [];
  let current = new Map<string, string[]>();
  for (let pairs = 1; ; pairs++) {
    if (pairs > MAX_PAIRS) throw malformedXfcc('too many pairs');
    const match = pair.exec(header);
    if (match === null) throw malformedXfcc('expected key=value');
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
      if (elements.length >= MAX_ELEMENTS) throw malformedXfcc('too many elements');
      current = new Map();
    }
  }
}
