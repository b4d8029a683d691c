// Starting a paired session for this window: find a challenge, exchange it, and hand
// back a client that holds the session token in memory only.
import { GatewayClient, type GatewayError } from '../../shared/client.js';
import { bridge } from './bridge.js';
import { findChallenge } from './pairing.js';
import { errorText } from './api.js';

export type Phase =
  | { kind: 'unpaired'; gatewayUrl: string }
  | { kind: 'paired'; client: GatewayClient; gatewayUrl: string; viaBridge: boolean; expiresAt: string }
  | { kind: 'failed'; gatewayUrl: string; message: string; viaBridge: boolean }
  | { kind: 'ended'; gatewayUrl: string; message: string; viaBridge: boolean };

export async function startSession(onUnauthorized: (error: GatewayError) => void): Promise<Phase> {
  const symphony = bridge();
  const viaBridge = Boolean(symphony);
  let found;
  try {
    found = await findChallenge(symphony, window.location, window.history);
  } catch (cause) {
    return { kind: 'failed', gatewayUrl: window.location.origin, message: errorText(cause), viaBridge };
  }
  if (found.kind === 'none') return { kind: 'unpaired', gatewayUrl: found.gatewayUrl };
  const client = new GatewayClient({ baseUrl: found.gatewayUrl, onUnauthorized });
  try {
    const { expiresAt } = await client.exchange(found.challengeToken);
    return { kind: 'paired', client, gatewayUrl: found.gatewayUrl, viaBridge, expiresAt };
  } catch (cause) {
    return { kind: 'failed', gatewayUrl: found.gatewayUrl, message: errorText(cause), viaBridge };
  }
}

// Renew this long before the session expires, so that no request meets the expiry.
const RENEW_BEFORE_MS = 10 * 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * In the window, trades a fresh challenge from main for a new session shortly before the
 * current one expires and reports the new expiry. If renewing fails, the next 401 ends
 * the session visibly. Returns the cancel function.
 */
export function scheduleRenewal(client: GatewayClient, expiresAt: string, onRenewed: (expiresAt: string) => void): () => void {
  const symphony = bridge();
  if (!symphony) return () => undefined;
  const delay = Math.min(MAX_TIMER_MS, Math.max(10_000, Date.parse(expiresAt) - Date.now() - RENEW_BEFORE_MS));
  const timer = setTimeout(() => {
    void symphony
      .pair()
      .then(({ challengeToken }) => client.exchange(challengeToken))
      .then((reply) => onRenewed(reply.expiresAt))
      .catch(() => undefined);
  }, delay);
  return () => clearTimeout(timer);
}
