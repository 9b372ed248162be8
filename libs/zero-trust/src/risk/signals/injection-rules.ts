/**
 * Kinds of injection payloads the rule set recognises, with their OWASP `malicious_*` event.
 *
 * @publicApi
 */
export type InjectionKind = 'sqli' | 'xss' | 'cmd_injection' | 'path_traversal';

const SHELL_COMMANDS =
  'cat|ls|id|whoami|uname|wget|curl|nc|ncat|netcat|bash|sh|zsh|rm|chmod|powershell|cmd|ping|nslookup|python[23]?|perl|ruby|php|echo|sleep|env|printenv|base64';

/**
 * The rules, each anchored on syntax that ordinary text and JSON rarely contain (quotes
 * closing a literal, SQL keywords in sequence, markup with handlers, shell metacharacters
 * before a command, dot-dot segments). Values are URL-decoded (twice at most) and lowercased
 * before matching.
 *
 * @internal
 */
export const INJECTION_RULES: readonly { kind: InjectionKind; pattern: RegExp }[] = [
  // SQL: tautologies after a closing quote, UNION SELECT, stacked queries, comments after a
  // quote, time-based probes, catalog tables.
  {
    kind: 'sqli',
    pattern:
      /['"`]\s*\)?\s*(?:or|and|xor|\|\||&&)\s*\(?\s*['"`]?\w*['"`]?\s*(?:=|<>|!=|<|>|like\b|is\b)/,
  },
  { kind: 'sqli', pattern: /\b(?:or|and)\s+\(?\s*(\d+)\s*=\s*\1\b/ },
  { kind: 'sqli', pattern: /\bunion\b(?:\s|\/\*.*?\*\/)+(?:all\s+|distinct\s+)?select\b/ },
  {
    kind: 'sqli',
    pattern:
      /;\s*(?:drop|delete|insert|update|alter|create|truncate|exec(?:ute)?|shutdown|declare)\s+\w/,
  },
  { kind: 'sqli', pattern: /['"`]\s*\)?\s*(?:--|#|\/\*)/ },
  {
    kind: 'sqli',
    pattern:
      /\b(?:sleep|benchmark|pg_sleep|dbms_pipe\.receive_message)\s*\(|\bwaitfor\s+delay\s+['"]/,
  },
  {
    kind: 'sqli',
    pattern:
      /\b(?:information_schema|sysobjects|xp_cmdshell|load_file\s*\(|into\s+(?:out|dump)file)\b/,
  },
  // XSS: script-capable markup, event handlers inside a tag, script URLs.
  { kind: 'xss', pattern: /<\s*\/?\s*(?:script|iframe|frame|object|embed|applet|base|svg|math)\b/ },
  { kind: 'xss', pattern: /<[a-z][^>]*?[\s/"']on[a-z]{3,}\s*=/ },
  { kind: 'xss', pattern: /(?:^|[\s"'=(])(?:java|vb)script\s*:/ },
  {
    kind: 'xss',
    pattern: /\bdata\s*:\s*text\/html\b|\bsrcdoc\s*=|<\s*img\b[^>]*\bsrc\s*=\s*['"]?\s*x\b/,
  },
  // Command injection: metacharacters before a command, substitutions.
  {
    kind: 'cmd_injection',
    pattern: new RegExp(
      `(?:[;&|\`]|\\$\\()\\s*(?:${SHELL_COMMANDS})(?:\\s*$|\\s*[;&|\`)]|\\s+[-/$'"]|\\s+https?:)`,
    ),
  },
  { kind: 'cmd_injection', pattern: /\$\{ifs\}|\$ifs\b/ },
  { kind: 'cmd_injection', pattern: new RegExp(`\`\\s*(?:${SHELL_COMMANDS})\\b[^\`]*\``) },
  // Path traversal: dot-dot segments (also encoded), well-known system files.
  { kind: 'path_traversal', pattern: /(?:^|[\\/=])\.\.(?:[\\/]|$)/ },
  { kind: 'path_traversal', pattern: /%2e%2e|\.\.%2f|\.\.%5c|%c0%ae|%252e/ },
  {
    kind: 'path_traversal',
    pattern:
      /(?:^|[\\/])(?:etc[\\/](?:passwd|shadow|hosts)|proc[\\/]self[\\/]|windows[\\/]win\.ini|boot\.ini)/,
  },
];

function decodeOnce(value: string): string {
  if (!value.includes('%') && !value.includes('+')) return value;
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

/**
 * The kinds of injection payloads found in one value (at most the first 8 KiB are read).
 *
 * @publicApi
 */
export function detectInjection(value: string): Set<InjectionKind> {
  const found = new Set<InjectionKind>();
  const raw = value.slice(0, 8192).toLowerCase();
  const once = decodeOnce(raw);
  const candidates = once === raw ? [raw] : [raw, once, decodeOnce(once)];
  for (const rule of INJECTION_RULES) {
    if (found.has(rule.kind)) continue;
    if (candidates.some((candidate) => rule.pattern.test(candidate))) found.add(rule.kind);
  }
  return found;
}
