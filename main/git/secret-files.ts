// Files that hold secrets by their name: never shown to a model (a commit message is
// written from a diff without them). One list, used both as git pathspecs and in code.

/** File-name patterns (`*` = any run of characters but `/`), matched case-insensitively. */
const SECRET_NAMES = [
  '.env', '.env.*', '*.env',
  '*.pem', '*.key', '*.p12', '*.pfx', '*.keystore', '*.jks', '*.kdbx', '*.asc', '*.gpg',
  'id_rsa*', 'id_dsa*', 'id_ecdsa*', 'id_ed25519*',
  'credentials', 'credentials.*', '*.credentials', '*-credentials.json', 'secrets.*', 'secret.*', '*.secret', '*.secrets',
  'service-account*.json',
  '.npmrc', '.pypirc', '.netrc', '.git-credentials', '.htpasswd', '.pgpass', '*.tfvars', '*.tfstate',
];

const MATCHERS = SECRET_NAMES.map(
  (name) => new RegExp(`^${name.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`, 'i'),
);

/** True when the file's name (any folder) matches a secret pattern. */
export function isSecretFile(file: string): boolean {
  const name = file.split(/[\\/]/).pop() ?? file;
  return MATCHERS.some((matcher) => matcher.test(name));
}

/** The same patterns as git pathspecs that leave the files out of a diff. */
export const SECRET_EXCLUDE_PATHSPECS: readonly string[] = SECRET_NAMES.map((name) => `:(exclude,glob,icase)**/${name}`);

/** Values that look like credentials wherever they appear (private keys, provider tokens). */
const SECRET_VALUES = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}\b/g,
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}\b/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g,
  /\bAIza[0-9A-Za-z_-]{35}\b/g,
];

/** `text` with credential-looking values replaced by [redacted]. */
export function redactSecretValues(text: string): string {
  return SECRET_VALUES.reduce((out, pattern) => out.replace(pattern, '[redacted]'), text);
}
