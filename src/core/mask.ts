/**
 * Masking of secret-looking command-line values, pure. Applied by the snapshot writer to a COPY of a
 * snapshot before it leaves the host (a file, a bug report): the live snapshot used for kill decisions
 * is never changed.
 *
 * What is masked (the value becomes {@link MASK}):
 * - the value after a secret-named flag: `--api-key X`, `--token X`, `--password X`, `--secret X`,
 *   `--auth X`, `--bearer X`, `--key X`, `--credentials X`, `--private-key X`, and any flag whose name
 *   contains one of those words (`--openai-api-key X`, `--bot-token X`, `--client-secret X`);
 * - the same flags written `--flag=X`;
 * - `NAME=X` assignments (as passed to `env NAME=X cmd`) whose NAME contains KEY, TOKEN, SECRET,
 *   PASSWORD, PASSWD, AUTH, CREDENTIAL or COOKIE;
 * - anything that looks like a credential by itself, wherever it appears, also inside a longer token
 *   (`-H "Authorization: Bearer X"`, URLs with `user:pass@`): OpenAI/Anthropic-style `sk-…`, Slack
 *   `xox?-…`, GitHub `ghp_…`/`github_pat_…`, AWS `AKIA…`, Telegram bot tokens `123456:AA…`,
 *   `Bearer X`, and URL passwords.
 * Flag names, paths and everything else stay as they are, so the classifier sees the same argv shape.
 */

/** What a masked value is replaced with. */
export const MASK = '***';

/** Words that make a flag or variable name secret (matched case-insensitively inside the name). */
const SECRET_NAME = /(api[-_]?key|apikey|token|secret|passw(or)?d|auth|bearer|credential|cookie|private[-_]?key|access[-_]?key|^key$|_key$|-key$)/i;

/** Credentials recognisable by their shape alone. Each has a prefix kept for readability, the rest masked. */
const SECRET_SHAPES: { re: RegExp; keep: (m: string) => string }[] = [
  // OpenAI / Anthropic / OpenRouter style keys: sk-…, sk-ant-…, sk-or-…
  { re: /\bsk-[A-Za-z0-9_-]{6,}/g, keep: () => 'sk-' },
  // Slack tokens
  { re: /\bxox[abprs]-[A-Za-z0-9-]{6,}/g, keep: (m) => m.slice(0, 5) },
  // GitHub tokens
  { re: /\b(gh[pousr]_[A-Za-z0-9]{10,}|github_pat_[A-Za-z0-9_]{10,})/g, keep: (m) => m.slice(0, m.indexOf('_') + 1) },
  // AWS access key ids
  { re: /\bAKIA[0-9A-Z]{12,}/g, keep: () => 'AKIA' },
  // Telegram bot tokens: digits:35 chars
  { re: /\b\d{6,}:[A-Za-z0-9_-]{30,}/g, keep: () => '' },
  // Google API keys
  { re: /\bAIza[0-9A-Za-z_-]{20,}/g, keep: () => 'AIza' },
];

/** `Bearer X` / `Basic X` inside a token (e.g. a curl header). */
const AUTH_SCHEME = /\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/gi;
/** `scheme://user:password@host`: the password part. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi;

/** True when a named flag (`--api-key`, `--bot-token`, `-password`) names a secret; one- and two-letter flags never do. */
export function isSecretFlag(flag: string): boolean {
  if (!/^--?[A-Za-z]/.test(flag)) return false;
  const name = flag.replace(/^-+/, '');
  if (name.length < 3) return false; // -p, -q, -k: too ambiguous; their values are not masked by name
  return SECRET_NAME.test(name);
}

/** True when an environment-style variable name (`OPENAI_API_KEY`) names a secret. */
export function isSecretName(name: string): boolean {
  return /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|AUTH|CREDENTIAL|COOKIE)/i.test(name);
}

/** Masks credentials recognisable by shape inside one string; returns the string unchanged when none. */
export function maskShapes(text: string): string {
  let out = text;
  for (const { re, keep } of SECRET_SHAPES) out = out.replace(re, (m) => keep(m) + MASK);
  out = out.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${MASK}`);
  out = out.replace(URL_PASSWORD, (_m, head: string) => `${head}${MASK}@`);
  return out;
}

/**
 * Returns a masked copy of an argv (the input is not modified). Same length as the input, so
 * positions (and the Hermes matcher's view of flags and subcommands) are unchanged.
 *
 * @param argv argv as the kernel shows it
 * @returns a new array
 */
export function maskArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    const prev = i > 0 ? argv[i - 1]! : null;
    if (prev !== null && isSecretFlag(prev) && !prev.includes('=') && !tok.startsWith('-')) {
      out.push(MASK);
      continue;
    }
    const eq = tok.indexOf('=');
    if (eq > 0) {
      const name = tok.slice(0, eq);
      if ((name.startsWith('-') && isSecretFlag(name)) || (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && isSecretName(name))) {
        out.push(`${name}=${MASK}`);
        continue;
      }
    }
    out.push(maskShapes(tok));
  }
  return out;
}
