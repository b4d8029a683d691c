// Origins are compared as exact strings; this normalizes and refuses what can never be
// a pairing target: `null`, wildcards, paths, credentials, non-web schemes.
import { BadRequest } from '../errors.js';

const WEB_SCHEMES = new Set(['http:', 'https:']);

/** Returns the canonical origin (`scheme://host[:port]`) or null when `value` is not one. */
export function parseOrigin(value: string, extraSchemes: readonly string[] = []): string | null {
  if (!value || value === 'null' || value.includes('*') || value.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  const customScheme = extraSchemes.includes(url.protocol);
  if (!WEB_SCHEMES.has(url.protocol) && !customScheme) return null;
  if (url.username || url.password || url.search || url.hash) return null;
  if (url.pathname !== '/' && url.pathname !== '') return null;
  if (!url.hostname) return null;
  // URL.origin is "null" for non-special schemes such as app://, so build it ourselves.
  const canonical = customScheme ? `${url.protocol}//${url.host}` : url.origin;
  // Reject anything that only becomes an origin after normalization tricks (trailing slash aside).
  if (value !== canonical && value !== `${canonical}/`) return null;
  return canonical;
}

export function requireOrigin(value: string, field = 'origin', extraSchemes: readonly string[] = []): string {
  const origin = parseOrigin(value, extraSchemes);
  if (!origin) {
    throw new BadRequest(`${field} must be one exact origin like https://app.example.com (no null, wildcard or path).`, {
      field,
    }, 'invalid_origin');
  }
  return origin;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An origin the desktop sends its credentials to (the cloud API, the relay): https, or http on loopback only. */
export function requireSecureOrigin(value: string, field = 'origin'): string {
  const origin = requireOrigin(value, field);
  const url = new URL(origin);
  if (url.protocol !== 'https:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new BadRequest(`${field} must use https (plain http only for 127.0.0.1, localhost or [::1]).`, { field }, 'insecure_origin');
  }
  return origin;
}
