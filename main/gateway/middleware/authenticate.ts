// Who is calling, from the credential alone. Tokens are read only from headers.
// The gateway token is for non-browser callers: with an Origin or any Sec-Fetch-*
// header it is refused. A session token is valid only from the origin it was issued to.
// The relay caller is the gateway token plus the relay secret: a random value made per
// process and held only by our relay client's loopback replay (never stored, logged or
// sent anywhere else), so nobody can claim to be the cloud by sending a header.
import type { RouteKind } from '../../../shared/operations.js';
import { isRemoteCaller, type Caller } from '../../auth/caller.js';
import type { Session } from '../../auth/sessions.js';
import { SecretMatcher } from '../../auth/tokens.js';
import { Forbidden, Unauthorized } from '../../errors.js';
import type { Services } from '../../services.js';
import type { GatewayContext } from '../state.js';

export const GATEWAY_TOKEN_HEADER = 'X-Desktop-Gateway-Token';
export const SESSION_TOKEN_HEADER = 'X-Desktop-Session-Token';
export const RELAY_SECRET_HEADER = 'X-Desktop-Relay-Secret';

/** A check, not a stage: it sets `ctx.state.caller`, or throws 401/403. */
export function authenticate(services: Services, kind: RouteKind): (ctx: GatewayContext) => void {
  const relayMatcher = new SecretMatcher(services.relaySecret);
  return function auth(ctx: GatewayContext): void {
    if (kind === 'public') return;
    const caller = identify(ctx, services, relayMatcher);
    if (kind === 'desktop' && isRemoteCaller(caller)) {
      throw new Forbidden('Only the desktop app or the gateway token may use this route.', 'desktop_only');
    }
    ctx.state.caller = caller;
  };
}

/** The token's and the relay's caller when they claim no source: one object each, not one per request. */
const TOKEN_CALLER: Caller = Object.freeze({ kind: 'token', origin: null, sessionId: null, claimedSource: null });
const RELAY_CALLER: Caller = Object.freeze({ kind: 'relay', origin: null, sessionId: null, claimedSource: null });
/** A session's caller, likewise: the store keeps one Session object per session. */
const sessionCallers = new WeakMap<Session, Caller>();

function identify(ctx: GatewayContext, services: Services, relayMatcher: SecretMatcher): Caller {
  const gatewayToken = ctx.get(GATEWAY_TOKEN_HEADER);
  const sessionToken = ctx.get(SESSION_TOKEN_HEADER);
  const claimedSource = ctx.get('X-Desktop-Source').slice(0, 200) || null;
  if (gatewayToken) {
    if (!services.gatewayTokens.matches(gatewayToken)) throw new Unauthorized('Invalid gateway token.', 'invalid_token');
    if (fromBrowser(ctx)) {
      throw new Forbidden('The gateway token is not accepted from a browser; pair the page instead.', 'token_from_browser');
    }
    const relaySecret = ctx.get(RELAY_SECRET_HEADER);
    if (relaySecret) {
      // Compared in constant time; a wrong one is refused, never downgraded to `token`.
      if (!relayMatcher.matches(relaySecret)) throw new Unauthorized('Invalid relay credential.', 'invalid_relay_secret');
      return claimedSource === null ? RELAY_CALLER : { kind: 'relay', origin: null, sessionId: null, claimedSource };
    }
    return claimedSource === null ? TOKEN_CALLER : { kind: 'token', origin: null, sessionId: null, claimedSource };
  }
  if (sessionToken) {
    const session = services.sessions.authenticate(sessionToken);
    if (!session) throw new Unauthorized('The session is unknown, expired or revoked; pair again.', 'invalid_session');
    const origin = requestOrigin(ctx);
    if (!origin) throw new Forbidden('A session token must come with the Origin it was issued to.', 'origin_required');
    if (origin !== session.origin) throw new Forbidden('This session belongs to another origin.', 'origin_mismatch');
    if (claimedSource !== null) return { kind: session.kind === 'renderer' ? 'renderer' : 'origin', origin, sessionId: session.id, claimedSource };
    let caller = sessionCallers.get(session);
    if (!caller) sessionCallers.set(session, (caller = Object.freeze({ kind: session.kind === 'renderer' ? 'renderer' : 'origin', origin: session.origin, sessionId: session.id, claimedSource: null })));
    return caller;
  }
  throw new Unauthorized('Send X-Desktop-Session-Token (paired browser) or X-Desktop-Gateway-Token (local tools).');
}

/**
 * Browsers send Origin on every request that can carry a custom header, and
 * Sec-Fetch-Site on every request. Node's own fetch (undici) sends Sec-Fetch-Mode
 * alone, and local tools use it, so that one header by itself is not a browser.
 */
function fromBrowser(ctx: GatewayContext): boolean {
  if (ctx.get('Origin')) return true;
  for (const name in ctx.headers) if (name.startsWith('sec-fetch-') && name !== 'sec-fetch-mode') return true;
  return false;
}

/**
 * The request's origin. A same-origin GET from the gateway's own /ui/ carries no
 * Origin header; the browser-set Sec-Fetch-Site tells us it came from our own origin.
 */
export function requestOrigin(ctx: GatewayContext): string | null {
  const origin = ctx.get('Origin');
  if (origin) return origin;
  if (ctx.get('Sec-Fetch-Site') === 'same-origin') return `http://${ctx.get('Host')}`;
  return null;
}
