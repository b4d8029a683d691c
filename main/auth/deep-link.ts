// Pairing deep links: `symphony-desktop://pair?origin=O&state=S`, sent by a web page that
// wants a local challenge. Everything here is plain Node so the Electron shell (main/app/)
// stays a thin caller and the rules are tested under Node.
import { createHash } from 'node:crypto';
import { BadRequest } from '../errors.js';

export const DEEP_LINK_SCHEME = 'symphony-desktop';

export interface PairRequest {
  /** The exact origin the challenge will be bound to (canonical, as a browser sends it). */
  origin: string;
  /** Opaque value of the page, handed back to it with the challenge. */
  state: string;
  /** Code shown in the desktop dialog; the page shows the same code (see pairShortCode). */
  shortCode: string;
}

const LOOPBACK_HTTP_HOSTS = new Set(['localhost', '127.0.0.1']);
// Long enough to be unguessable, short enough to stay out of the way in a URL fragment.
const STATE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * Accepts only one exact origin: https, or http on localhost / 127.0.0.1. Refuses `null`,
 * wildcards, paths, queries, fragments, credentials and any non-canonical spelling (upper
 * case, default port, unicode host), because the challenge is compared to the browser's
 * Origin header byte for byte and the dialog must show exactly what gets trusted.
 */
export function validatePairOrigin(origin: string): string {
  if (origin.includes('*')) throw new BadRequest('The origin must not contain a wildcard.', { field: 'origin' });
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new BadRequest('The origin is not a valid URL origin.', { field: 'origin' });
  }
  const secure = url.protocol === 'https:';
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HTTP_HOSTS.has(url.hostname);
  if (!secure && !loopbackHttp) {
    throw new BadRequest('The origin must use https (http only for localhost or 127.0.0.1).', { field: 'origin' });
  }
  if (url.origin !== origin) {
    throw new BadRequest(`The origin must be exactly scheme://host[:port], e.g. ${url.origin}.`, { field: 'origin' });
  }
  return url.origin;
}

/**
 * The code both sides display so the user can tell that the dialog belongs to the page
 * they came from. The page computes it the same way:
 *   hex = SHA-256(UTF-8 of origin + "\n" + state); take the first 5 bytes (40 bits),
 *   read them as 8 groups of 5 bits, map each through CODE_ALPHABET, and show them as
 *   "XXXX-XXXX".
 * Binding the origin in means a page that replays another page's state shows another code.
 */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U

export function pairShortCode(origin: string, state: string): string {
  const digest = createHash('sha256').update(`${origin}\n${state}`, 'utf8').digest();
  let bits = 0n;
  for (const byte of digest.subarray(0, 5)) bits = (bits << 8n) | BigInt(byte);
  let code = '';
  for (let shift = 35n; shift >= 0n; shift -= 5n) code += CODE_ALPHABET[Number((bits >> shift) & 31n)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** Parses and validates a pairing deep link; throws BadRequest naming what is wrong. */
export function parsePairLink(link: string): PairRequest {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new BadRequest('The deep link is not a valid URL.');
  }
  if (url.protocol !== `${DEEP_LINK_SCHEME}:`) throw new BadRequest(`The deep link must use ${DEEP_LINK_SCHEME}://.`);
  // Some platforms hand the link over as symphony-desktop://pair/?... (with a slash).
  if (url.hostname !== 'pair' || (url.pathname !== '' && url.pathname !== '/')) {
    throw new BadRequest('Unknown deep link action; only symphony-desktop://pair is supported.');
  }
  if (url.username || url.password || url.port || url.hash) throw new BadRequest('The deep link has unexpected parts.');
  const origins = url.searchParams.getAll('origin');
  const states = url.searchParams.getAll('state');
  if (origins.length !== 1) throw new BadRequest('The deep link needs exactly one origin.', { field: 'origin' });
  if (states.length !== 1) throw new BadRequest('The deep link needs exactly one state.', { field: 'state' });
  const origin = validatePairOrigin(origins[0]);
  const state = states[0];
  if (!STATE_PATTERN.test(state)) {
    throw new BadRequest('The state must be 16-128 characters of A-Z, a-z, 0-9, "_" or "-".', { field: 'state' });
  }
  return { origin, state, shortCode: pairShortCode(origin, state) };
}

/** The first pairing deep link in a command line (Windows and Linux pass it as an argument). */
export function findDeepLink(argv: readonly string[]): string | undefined {
  return argv.find((arg) => arg.toLowerCase().startsWith(`${DEEP_LINK_SCHEME}:`));
}

/**
 * Where the approved challenge goes: the page's own /desktop/paired, with everything in the
 * fragment so it never reaches a server log or a Referer header.
 */
export function pairedPageUrl(request: { origin: string; state: string }, challengeToken: string, port: number): string {
  const fragment = new URLSearchParams({ challenge: challengeToken, state: request.state, port: String(port) });
  return `${validatePairOrigin(request.origin)}/desktop/paired#${fragment.toString()}`;
}
