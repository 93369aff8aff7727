/**
 * The masking policy, pure: what of a command line or a text counts as a secret, and how it is hidden.
 * Every output applies it at its boundary (src/output/redact.ts: table, findings, JSON, guard, the
 * `--kill` plan and actions, snapshot files, the audit log, Prometheus labels); classification and the
 * kill step's identity checks always use the raw argv, so masking never changes a verdict or a target.
 *
 * A masked value becomes {@link MASK} and keeps its shape: `--api-key ***`, `--token=***`,
 * `OPENAI_API_KEY=***`, `Authorization: Bearer ***`, `https://bob:***@host`, `sk-***`; an argv keeps
 * its length. What is masked:
 * - the value after a flag whose name has a secret word ({@link isSecretFlag}): `--api-key X`,
 *   `--bot-token X`, `--password X`, `--pw X`, `--auth X`, `--session X`, `--webhook-url X`, also when
 *   X starts with `-`, and the same flags written `--flag=X`; one-letter flags (`-p`, `-k`) never;
 * - `NAME=X` where NAME (an environment-style name) has a secret word ({@link isSecretName}):
 *   `env OPENAI_API_KEY=X cmd`, and the same inside a longer token (a `sh -c` / `bash -c` script,
 *   `env -S "…"`), as are `--flag X` / `--flag=X` of a secret flag inside such a script;
 * - header forms: `Authorization: X`, `Proxy-Authorization: X`, `Cookie: X`, `X-Api-Key: X` and any
 *   `Name: X` whose name has a secret word; `Bearer X` anywhere (the scheme word is kept);
 * - URL userinfo: `scheme://user:X@host` (the user is kept), `scheme://X@host`; query parameters
 *   with a secret name (`?api_key=X&…`); `"name": "X"` pairs (JSON, a dict) with a secret name;
 * - token shapes anywhere, also glued to other text: `sk-…` / `sk-ant-…` (OpenAI, Anthropic,
 *   OpenRouter), Slack `xox[abprs]-…`, GitHub `ghp_…` `gho_…` `ghu_…` `ghs_…` `ghr_…` `github_pat_…`,
 *   AWS `AKIA…` / `ASIA…`, Google `AIza…`, GitLab `glpat-…`, Hugging Face `hf_…`, Telegram bot tokens
 *   `123456:AA…`, JWTs (`eyJ….eyJ….…`), and webhook URLs whose path is the credential
 *   (`hooks.slack.com/services/…`, `discord.com/api/webhooks/ID/…`).
 * Secret words: key, apikey, token, secret, password, passwd, pass, pwd, pw, passphrase, auth, authz,
 * authorization, authentication, credential(s), cookie, session, sessionid, bearer, webhook, and any
 * word ending in key, token, secret, password or passwd (`privatekey`, `authtoken`).
 */

/** What a masked value is replaced with. */
export const MASK = '***';

const SECRET_WORDS = new Set([
  'key', 'apikey', 'token', 'secret', 'password', 'passwd', 'pass', 'pwd', 'pw', 'passphrase',
  'auth', 'authz', 'authn', 'authorization', 'authentication', 'credential', 'credentials',
  'cookie', 'cookies', 'session', 'sessionid', 'bearer', 'webhook', 'webhooks',
]);
const SECRET_SUFFIX = /(key|token|secret|password|passwd)$/;

/** True when one word of a name (lower case, no separators) is a secret word. */
function secretWord(w: string): boolean {
  return SECRET_WORDS.has(w) || (w.length > 3 && SECRET_SUFFIX.test(w));
}

/** True when a name split at `-`, `_` and `.` has a secret word (`api-key`, `BOT_TOKEN`, `webhook.url`). */
function hasSecretWord(name: string): boolean {
  return name.toLowerCase().split(/[-_.]+/).some(secretWord);
}

/**
 * True when a flag (`--api-key`, `--bot-token`, `--pw`, `-password`) names a secret. One-letter flags
 * (`-p`, `-k`) never do: too ambiguous (Hermes's `-p` is the profile).
 */
export function isSecretFlag(flag: string): boolean {
  const m = /^(--?)([A-Za-z][A-Za-z0-9_.-]*)$/.exec(flag);
  if (!m) return false;
  if (m[2]!.length < 2) return false;
  return hasSecretWord(m[2]!);
}

/** True when an environment-style variable name (`OPENAI_API_KEY`, `DB_PASSWORD`) names a secret. */
export function isSecretName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && hasSecretWord(name);
}

/** Credentials recognisable by their shape alone; `keep` is the prefix shown before the mask. */
const SECRET_SHAPES: { re: RegExp; keep: (m: string) => string }[] = [
  // JWT: header.payload.signature, both first parts base64url JSON objects ("eyJ" = '{"').
  { re: /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, keep: () => '' },
  // OpenAI / Anthropic / OpenRouter style keys: sk-…, sk-ant-…, sk-or-…
  { re: /\bsk-[A-Za-z0-9_-]{6,}/g, keep: () => 'sk-' },
  // Slack tokens
  { re: /\bxox[abprs]-[A-Za-z0-9-]{6,}/g, keep: (m) => m.slice(0, 5) },
  // GitHub tokens
  { re: /\b(gh[pousr]_[A-Za-z0-9]{10,}|github_pat_[A-Za-z0-9_]{10,})/g, keep: (m) => m.slice(0, m.indexOf('_') + 1) },
  // GitLab personal access tokens, Hugging Face tokens
  { re: /\bglpat-[A-Za-z0-9_-]{10,}/g, keep: () => 'glpat-' },
  { re: /\bhf_[A-Za-z0-9]{20,}/g, keep: () => 'hf_' },
  // AWS access key ids (long-term AKIA, temporary ASIA)
  { re: /\b(AKIA|ASIA)[0-9A-Z]{12,}/g, keep: (m) => m.slice(0, 4) },
  // Telegram bot tokens: digits:35 chars, also inside the Bot API's URLs (`https://api.telegram.org/bot<token>/getMe`)
  { re: /(?:\b|(?<=bot))\d{6,}:[A-Za-z0-9_-]{30,}/g, keep: () => '' },
  // Google API keys
  { re: /\bAIza[0-9A-Za-z_-]{20,}/g, keep: () => 'AIza' },
  // Webhook URLs whose path is the credential (Slack incoming webhooks, Discord webhooks)
  { re: /\bhooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/g, keep: () => 'hooks.slack.com/services/' },
  { re: /\b(discord(?:app)?\.com\/api\/webhooks\/)[0-9]+\/[A-Za-z0-9_-]+/g, keep: (m) => m.slice(0, m.indexOf('/webhooks/') + 10) },
];

/** Some substring every {@link SECRET_SHAPES} match starts with (a cheap first look). */
const SHAPE_HINT = /eyJ|sk-|xox|gh[pousr]_|github_pat_|glpat-|hf_|AKIA|ASIA|\d{6,}:|AIza|hooks\.slack\.com|discord/;

/** A value inside a script: a quoted string or a run of non-blank characters. */
const VALUE = `(?:'[^']*'|"(?:[^"\\\\]|\\\\.)*"|[^\\s'";|&)]+)`;
/** `NAME=value` inside a text (an env wrapper or a shell script): NAME at the start or after a blank/operator. */
const ASSIGNMENT = new RegExp(`(^|[\\s;&|(\`'"?,])((?:export\\s+)?)([A-Za-z_][A-Za-z0-9_]*)=(${VALUE})`, 'g');
/** `"name": "value"` (JSON or a Python dict inside an argument). */
const QUOTED_PAIR = /(["'])([A-Za-z0-9_.-]+)\1(\s*:\s*)(["'])((?:(?!\4)[^\\]|\\.)*)\4/g;
/** `--flag value` / `--flag=value` inside a text. */
const INLINE_FLAG = new RegExp(`(^|[\\s;&|(\`'"])(--?[A-Za-z][A-Za-z0-9_.-]*)(=|\\s+)(${VALUE})`, 'g');
/** Header forms: `Authorization: [scheme] X`, `X-Api-Key: X`, `Cookie: X`; the value runs to the end of the header. */
const HEADER = /\b((?:proxy-)?authori[sz]ation|set-cookie|cookie|[a-z][a-z0-9-]*)(\s*:\s*)(?:(bearer|basic|digest|token|negotiate)(\s+))?(?!\/\/)([^\s'"][^'"\r\n]*)/gi;
/** `Bearer X` anywhere. */
const BEARER = /\b(Bearer)\s+(?!\*\*\*)[A-Za-z0-9._~+/=-]{6,}/gi;
/** `scheme://userinfo@host`: with a password, the password; without, the whole userinfo. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@'"]*)(:[^\s@/'"]*)?@/gi;

function isSecretHeader(name: string): boolean {
  const n = name.toLowerCase();
  return /^(proxy-)?authori[sz]ation$/.test(n) || n === 'cookie' || n === 'set-cookie' || hasSecretWord(n);
}

/**
 * Masks every secret {@link maskText} recognises inside one string (a script, a header, a message);
 * returns the string unchanged when there is none.
 */
export function maskText(text: string): string {
  let out = text;
  // Each rule runs only when the characters it needs are there: most argv entries and messages have none,
  // and a snapshot masks every process of the host.
  if (SHAPE_HINT.test(out)) for (const { re, keep } of SECRET_SHAPES) out = out.replace(re, (m) => keep(m) + MASK);
  const colon = out.includes(':');
  if (colon) {
    out = out.replace(HEADER, (m, name: string, sep: string, scheme: string | undefined, blank: string | undefined, value: string) =>
      isSecretHeader(name) && value !== MASK ? `${name}${sep}${scheme ? `${scheme}${blank}` : ''}${MASK}` : m,
    );
  }
  if (/bearer/i.test(out)) out = out.replace(BEARER, (_m, scheme: string) => `${scheme} ${MASK}`);
  if (out.includes('@') && out.includes('://')) {
    out = out.replace(URL_USERINFO, (m, scheme: string, user: string, pass: string | undefined) => {
      if (pass !== undefined) return pass === `:${MASK}` ? m : `${scheme}${user}:${MASK}@`;
      return user === '' || user === MASK ? m : `${scheme}${MASK}@`;
    });
  }
  if (colon && /["']/.test(out)) {
    out = out.replace(QUOTED_PAIR, (m, q: string, name: string, sep: string, vq: string, value: string) =>
      hasSecretWord(name) && value !== MASK ? `${q}${name}${q}${sep}${vq}${MASK}${vq}` : m,
    );
  }
  if (out.includes('=')) out = out.replace(ASSIGNMENT, (m, lead: string, exp: string, name: string) => (isSecretName(name) ? `${lead}${exp}${name}=${MASK}` : m));
  if (out.includes('-') && /[\s=]/.test(out)) {
    out = out.replace(INLINE_FLAG, (m, lead: string, flag: string, sep: string) => (isSecretFlag(flag) ? `${lead}${flag}${sep}${MASK}` : m));
  }
  return out;
}

/** The former name of {@link maskText} (shape masking of one string), kept for library users. */
export const maskShapes = maskText;

/** A masked argv and the indices whose entry the policy masked (some or all of it). */
export interface MaskedArgv {
  argv: string[];
  /** Indices into argv, ascending. */
  masked: number[];
}

/**
 * Masks an argv entry by entry (the input is not modified). Same length as the input, so positions
 * (and the Hermes matcher's view of flags and subcommands) are unchanged. Idempotent.
 *
 * @param argv argv as the kernel shows it
 */
export function maskArgvDetailed(argv: readonly string[]): MaskedArgv {
  const out: string[] = [];
  const masked: number[] = [];
  let prevIsValue = false;
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    const prev = i > 0 ? argv[i - 1]! : null;
    let m: string;
    // The value of `--api-key X`, even when X starts with `-`: a flag-looking secret is still a secret;
    // but a value is never itself a flag (`--token -x-secret OPENAI_API_KEY=…` masks the value, then goes on).
    const isValue: boolean = prev !== null && !prevIsValue && isSecretFlag(prev);
    prevIsValue = isValue;
    if (isValue) {
      m = MASK;
    } else {
      const eq = tok.indexOf('=');
      const name = eq > 0 ? tok.slice(0, eq) : '';
      if (eq > 0 && (isSecretFlag(name) || isSecretName(name))) m = `${name}=${MASK}`;
      else m = maskText(tok);
    }
    out.push(m);
    // An entry that already holds a mask (a snapshot masked before) counts too, so masking twice reports the same indices.
    if (m !== tok || tok.includes(MASK)) masked.push(i);
  }
  return { argv: out, masked };
}

/**
 * Returns a masked copy of an argv; see {@link maskArgvDetailed}.
 *
 * @param argv argv as the kernel shows it
 * @returns a new array of the same length
 */
export function maskArgv(argv: readonly string[]): string[] {
  return maskArgvDetailed(argv).argv;
}
