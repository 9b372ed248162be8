/** Kinds of injection payloads, each recorded as `malicious_<kind>`. @publicApi */
export type InjectionKind = 'sqli' | 'xss' | 'cmd_injection' | 'path_traversal';

const SHELL_COMMANDS =
  'cat|ls|id|whoami|uname|wget|curl|nc|ncat|netcat|bash|sh|zsh|rm|chmod|powershell|cmd|ping|nslookup|python[23]?|perl|ruby|php|echo|sleep|env|printenv|base64';

/** Rules by kind, anchored on syntax that ordinary text and JSON rarely contain. */
const RULES: Readonly<Record<InjectionKind, readonly RegExp[]>> = {
  sqli: [
    /['"`]\s*\)?\s*(?:or|and|xor|\|\||&&)\s*\(?\s*['"`]?\w*['"`]?\s*(?:=|<>|!=|<|>|like\b|is\b)/,
    /\b(?:or|and)\s+\(?\s*(\d+)\s*=\s*\1\b/,
    /\bunion\b(?:\s|\/\*.*?\*\/)+(?:all\s+|distinct\s+)?select\b/,
    /;\s*(?:drop|delete|insert|update|alter|create|truncate|exec(?:ute)?|shutdown|declare)\s+\w/,
    /['"`]\s*\)?\s*(?:--|#|\/\*)/,
    /\b(?:sleep|benchmark|pg_sleep|dbms_pipe\.receive_message)\s*\(|\bwaitfor\s+delay\s+['"]/,
    /\b(?:information_schema|sysobjects|xp_cmdshell|load_file\s*\(|into\s+(?:out|dump)file)\b/,
  ],
  xss: [
    /<\s*\/?\s*(?:script|iframe|frame|object|embed|applet|base|svg|math)\b/,
    /<[a-z][^>]*?[\s/"']on[a-z]{3,}\s*=/,
    /(?:^|[\s"'=(])(?:java|vb)script\s*:/,
    /\bdata\s*:\s*text\/html\b|\bsrcdoc\s*=|<\s*img\b[^>]*\bsrc\s*=\s*['"]?\s*x\b/,
  ],
  cmd_injection: [
    new RegExp(
      `(?:[;&|\`]|\\$\\()\\s*(?:${SHELL_COMMANDS})(?:\\s*$|\\s*[;&|\`)]|\\s+[-/$'"]|\\s+https?:)`,
    ),
    /\$\{ifs\}|\$ifs\b/,
    new RegExp(`\`\\s*(?:${SHELL_COMMANDS})\\b[^\`]*\``),
  ],
  path_traversal: [
    /(?:^|[\\/=])\.\.(?:[\\/]|$)/,
    /%2e%2e|\.\.%2f|\.\.%5c|%c0%ae|%252e/,
    /(?:^|[\\/])(?:etc[\\/](?:passwd|shadow|hosts)|proc[\\/]self[\\/]|windows[\\/]win\.ini|boot\.ini)/,
  ],
};

/** How much of a request the injection signal reads (past a limit: a finding). @publicApi */
export const INJECTION_SCAN_LIMITS = Object.freeze({
  /** Characters of one value (a path, a header, a query or body string). */
  length: 8192,
  /** Query parameters, and body keys and strings, per request. */
  values: 1000,
  /** Nesting of the body (objects and arrays). */
  depth: 12,
});

// Look-alikes NFKC leaves alone that a database, shell or file API may read as ASCII (SQL
// Server's "best fit" turns U+2019 into a quote).
const CONFUSABLES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries({
    '/': '\u2215\u2044\u29f8',
    '\\': '\u2216\u29f9',
    "'": '\u2018\u2019\u201a\u201b\u2032\u02bc\u02b9',
    '"': '\u201c\u201d\u201e\u201f\u2033\u02ba',
  }).flatMap(([ascii, alikes]) => alikes.split('').map((alike) => [alike, ascii])),
);
const CONFUSABLE = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'g');
// Characters that render as nothing: `un\u200bion` is `union` to a reader that drops them.
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]/g;
// SQL comments read as `as` (`UN/**\/ION` is `UNION`); MySQL's `/*!50000 x*\/` keeps `x`, an
// open comment stays. One pass with `indexOf`: linear time.
function readSqlComments(value: string, as: ' ' | ''): string {
  if (!value.includes('/*') && !value.includes('--') && !value.includes('#')) return value;
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    let end = -1;
    let kept = '';
    if (c === '/' && value[i + 1] === '*') {
      end = value.indexOf('*/', i + 2);
      if (end === -1) break;
      const body = value.slice(i + 2, end);
      if (body.startsWith('!')) kept = body.replace(/^!\d{0,6}/, '');
      end += 2;
    } else if ((c === '-' && value[i + 1] === '-') || c === '#') {
      end = value.indexOf('\n', i);
      if (end === -1) break;
      end += 1;
    } else continue;
    out += `${value.slice(from, i)}${as}${kept}${as}`;
    from = end;
    i = end - 1;
  }
  return out + value.slice(from);
}

const PERCENT_ESCAPES = /(?:%[0-9a-f]{2})+/g;

// URL-decodes runs of valid `%XX` once; `decodeURIComponent` would give up on the whole value
// at one malformed escape appended to a payload. `+` is a space.
function decodeOnce(value: string): string {
  if (!value.includes('%') && !value.includes('+')) return value;
  return value
    .replace(/\+/g, ' ')
    .replace(PERCENT_ESCAPES, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

// The value as sent (lowercased) and normalised (decoded, NFKC, look-alikes folded, invisibles
// dropped), then with SQL comments read as spaces and as nothing: raw syntax rules keep
// working while an obfuscated payload is seen as what it becomes.
function normalisedForms(value: string): string[] {
  const raw = value.toLowerCase();
  const normalised = decodeOnce(raw)
    .normalize('NFKC')
    .toLowerCase()
    .replace(CONFUSABLE, (c) => CONFUSABLES[c] ?? c)
    .replace(INVISIBLE, '');
  const forms = [raw];
  if (normalised !== raw) forms.push(normalised);
  const spaced = readSqlComments(normalised, ' ');
  if (spaced !== normalised) forms.push(spaced, readSqlComments(normalised, ''));
  return forms;
}

/** The kinds of payloads in a value (its first `INJECTION_SCAN_LIMITS.length` chars). @publicApi */
export function detectInjection(value: string): Set<InjectionKind> {
  const forms = normalisedForms(value.slice(0, INJECTION_SCAN_LIMITS.length));
  const found = Object.entries(RULES).filter(([, rules]) =>
    rules.some((rule) => forms.some((form) => rule.test(form))),
  );
  return new Set(found.map(([kind]) => kind as InjectionKind));
}
