// Host allowlist, before anything else: a page on a rebinding DNS name that resolves
// to 127.0.0.1 still sends its own Host, and is turned away here.
import { AppError } from '../../errors.js';
import type { GatewayContext } from '../state.js';

export function loopbackHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** A check, not a stage: it throws 421 for a Host that is not ours and returns otherwise. */
export function hostCheck(currentPort: () => number): (ctx: GatewayContext) => void {
  // Built once per port, not per request.
  let port = Number.NaN;
  let allowed = new Set<string>();
  return function host(ctx: GatewayContext): void {
    if (currentPort() !== port) allowed = loopbackHosts((port = currentPort()));
    const host = ctx.get('Host');
    // Lowercased only when it is not ours as sent: toLowerCase makes a new string even when nothing changes.
    if (!allowed.has(host) && !allowed.has(host.toLowerCase())) {
      throw new AppError(421, 'host_not_allowed', 'Host not allowed.');
    }
  };
}
