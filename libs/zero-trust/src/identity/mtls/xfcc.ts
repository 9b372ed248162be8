/**
 * One element of an `X-Forwarded-Client-Cert` header: what one proxy saw of its client.
 * Keys are lowercased (`by`, `hash`, `cert`, `chain`, `subject`, `uri`, `dns`); a key may repeat
 * (`URI`, `DNS`), so each holds a list of values.
 *
 * @internal
 */
export type XfccElement = ReadonlyMap<string, readonly string[]>;

/** Largest header accepted: a certificate chain fits well below. */
export const MAX_XFCC_LENGTH = 32_768;
const MAX_ELEMENTS = 16;
const MAX_PAIRS = 64;
const KEY = /^[A-Za-z]+$/;

/**
 * The header was not a well-formed XFCC value.
 *
 * @internal
 */
export class XfccSyntaxError extends Error {
  constructor(reason: string) {
    super(`Malformed X-Forwarded-Client-Cert: ${reason}`);
    this.name = 'XfccSyntaxError';
  }
}

/**
 * Parses an Envoy `X-Forwarded-Client-Cert` header: elements separated by `,`, `key=value`
 * pairs separated by `;`, values optionally double-quoted (a quoted value may contain `,`, `;`
 * and `=`, and `\"` for a quote). Keys are case-insensitive. Bounded in size, element and pair
 * counts; anything malformed (unterminated quote, pair without `=`, empty key, stray characters
 * after a quoted value, control characters) throws {@link XfccSyntaxError}.
 *
 * @internal
 */
export function parseXfcc(header: string): XfccElement[] {
  if (header.length === 0) throw new XfccSyntaxError('empty header');
  if (header.length > MAX_XFCC_LENGTH) throw new XfccSyntaxError('header too large');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(header)) throw new XfccSyntaxError('control character');
  const elements: XfccElement[] = [];
  let current = new Map<string, string[]>();
  let pairs = 0;
  let i = 0;
  const n = header.length;
  const skipSpaces = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  for (;;) {
    skipSpaces();
    // key
    const keyStart = i;
    while (i < n && header[i] !== '=' && header[i] !== ';' && header[i] !== ',') i++;
    const key = header.slice(keyStart, i).trim();
    if (header[i] !== '=' || !KEY.test(key)) throw new XfccSyntaxError('expected key=value');
    i++; // '='
    // value
    let value: string;
    if (header[i] === '"') {
      i++;
      let out = '';
      let closed = false;
      while (i < n) {
        const c = header[i] as string;
        if (c === '\\' && i + 1 < n) {
          out += header[i + 1];
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          out += c;
          i++;
        }
      }
      if (!closed) throw new XfccSyntaxError('unterminated quoted value');
      value = out;
      skipSpaces();
      if (i < n && header[i] !== ';' && header[i] !== ',')
        throw new XfccSyntaxError('unexpected character after a quoted value');
    } else {
      const valueStart = i;
      while (i < n && header[i] !== ';' && header[i] !== ',') {
        if (header[i] === '"' || header[i] === '=') throw new XfccSyntaxError('unquoted special');
        i++;
      }
      value = header.slice(valueStart, i).trim();
    }
    if (++pairs > MAX_PAIRS) throw new XfccSyntaxError('too many pairs');
    const name = key.toLowerCase();
    const list = current.get(name);
    if (list === undefined) current.set(name, [value]);
    else list.push(value);
    if (i >= n) {
      elements.push(current);
      return elements;
    }
    if (header[i] === ',') {
      elements.push(current);
      if (elements.length >= MAX_ELEMENTS) throw new XfccSyntaxError('too many elements');
      current = new Map();
    }
    i++; // ';' or ','
  }
}
