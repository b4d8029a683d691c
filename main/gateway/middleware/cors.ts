// CORS for browser callers. Only origins we know are answered: the configured cloud
// web app origins, origins with a live session or a pending challenge, and the
// renderer. Anyone else gets no Access-Control-Allow-Origin at all.
import { Forbidden } from '../../errors.js';
import type { Services } from '../../services.js';
import { addVary, setHeader } from '../exchange.js';
import type { GatewayContext } from '../state.js';

const ALLOWED_HEADERS = [
  'Content-Type',
  'X-Desktop-Gateway-Token',
  'X-Desktop-Session-Token',
  'X-Desktop-Source',
  'X-Desktop-Force-Approval',
  'X-Desktop-Approval-Reason',
].join(', ');
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const EXPOSED_HEADERS = 'X-Request-Id, Retry-After';

export function isKnownOrigin(services: Services, origin: string): boolean {
  return (
    services.config.isRendererOrigin(origin) ||
    services.config.isAllowedOrigin(origin) ||
    services.challenges.hasPendingOrigin(origin) ||
    services.sessions.hasLiveOrigin(origin)
  );
}

/**
 * A step, not a stage: it sets the CORS headers and returns true when it answered a preflight
 * itself (nothing else runs then), false when the request goes on.
 */
export function cors(services: Services): (ctx: GatewayContext) => boolean {
  return function allowOrigin(ctx: GatewayContext): boolean {
    const origin = ctx.get('Origin');
    addVary(ctx, 'Origin');
    if (!origin) return false;
    const known = isKnownOrigin(services, origin);
    if (ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method')) {
      answerPreflight(ctx, origin, known);
      return true;
    }
    if (known) {
      // On every paired browser's request: not through Koa's ctx.set.
      setHeader(ctx, 'Access-Control-Allow-Origin', origin);
      setHeader(ctx, 'Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    return false;
  };
}

function answerPreflight(ctx: GatewayContext, origin: string, known: boolean): void {
  if (!known) {
    throw new Forbidden('This origin is not allowed to call the gateway; pair it from the desktop app first.', 'origin_not_allowed');
  }
  ctx.set('Access-Control-Allow-Origin', origin);
  ctx.set('Access-Control-Allow-Methods', ALLOWED_METHODS);
  ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
  ctx.set('Access-Control-Max-Age', '600');
  // Chromium's Private/Local Network Access preflights for a public page calling loopback.
  if (ctx.get('Access-Control-Request-Private-Network') === 'true') {
    ctx.set('Access-Control-Allow-Private-Network', 'true');
  }
  if (ctx.get('Access-Control-Request-Local-Network') === 'true') {
    ctx.set('Access-Control-Allow-Local-Network', 'true');
  }
  ctx.status = 204;
}
