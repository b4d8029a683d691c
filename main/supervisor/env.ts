// The environment a child gets: an allowlist from ours plus what the caller passes on
// purpose. Our own credentials (gateway and session tokens, SYMPHONY_* settings, any
// *_TOKEN / secret we hold) never reach a child, because nothing outside the list is copied.

const ALLOWED_NAMES = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TERM', 'TMPDIR', 'TZ',
  // Windows needs these to start most programs at all.
  'SYSTEMROOT', 'SYSTEMDRIVE', 'WINDIR', 'COMSPEC', 'PATHEXT', 'USERPROFILE', 'APPDATA',
  'LOCALAPPDATA', 'PROGRAMDATA', 'PROGRAMFILES', 'TEMP', 'TMP', 'USERNAME', 'HOMEDRIVE', 'HOMEPATH',
]);
const ALLOWED_PREFIXES = ['LC_', 'XDG_'];

/** Names that are ours: refused even when a caller passes them explicitly. */
const OURS = /^SYMPHONY_/i;

/** Values named like credentials are never inherited; a caller may still pass one on purpose (e.g. a test API key). */
const CREDENTIAL_LIKE = /(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE_?KEY)/i;

/** A name like …_TOKEN, …_API_KEY, …SECRET…: its value is never logged, shown or inherited. */
export function looksLikeCredential(name: string): boolean {
  return CREDENTIAL_LIKE.test(name);
}

export function isInheritable(name: string): boolean {
  const upper = name.toUpperCase();
  if (OURS.test(upper) || looksLikeCredential(upper)) return false;
  return ALLOWED_NAMES.has(upper) || ALLOWED_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

export function cleanEnv(
  explicit: Readonly<Record<string, string | undefined>> = {},
  inherited: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(inherited)) {
    if (value !== undefined && isInheritable(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(explicit)) {
    if (OURS.test(name)) throw new Error(`Refusing to pass ${name} to a child: SYMPHONY_* variables are the gateway's own.`);
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}
