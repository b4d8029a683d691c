// Host allowlist, before anything else: a page on a rebinding DNS name that resolves
// to 127.0.0.1 still sends its own Host, and is turned away here.
import { AppError } from '../../errors.js';
import type { GatewayContext } from '../state.js';

export function loopbackHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

export function hostCheck(currentPort: () => number) {
  // Built once per port, not per request.
  let port = Number.NaN;
  let allowed = new Set<string>();
  return function host(ctx: GatewayContext, next: () => Promise<void> | void): Promise<void> | void {
    if (currentPort() !== port) allowed = loopbackHosts((port = currentPort()));
    if (!allowed.has((ctx.get('Host') || '').toLowerCase())) {
      throw new AppError(421, 'host_not_allowed', 'Host not allowed.');
    }
    return next();
  };
}
