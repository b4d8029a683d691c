// Starting a paired session for this window: find a challenge, exchange it, and hand
// back a client that holds the session token in memory only.
import { GatewayClient, type GatewayError } from '../../shared/client.js';
import { bridge } from './bridge.js';
import { findChallenge } from './pairing.js';
import { errorText } from './api.js';

export type Phase =
  | { kind: 'unpaired'; gatewayUrl: string }
  | { kind: 'paired'; client: GatewayClient; gatewayUrl: string; viaBridge: boolean }
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
    await client.exchange(found.challengeToken);
  } catch (cause) {
    return { kind: 'failed', gatewayUrl: found.gatewayUrl, message: errorText(cause), viaBridge };
  }
  return { kind: 'paired', client, gatewayUrl: found.gatewayUrl, viaBridge };
}
