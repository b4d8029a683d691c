// How this page gets its session: from the Electron bridge when present, else from the
// one-time challenge that `symphony-gateway pair` put in the URL fragment. The
// fragment is never sent to a server; it is removed from the address bar once read so
// that it does not linger in history or get copied along with the URL.
import type { SymphonyBridge } from './bridge.js';

export function challengeFromFragment(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('challenge');
  return token && token.trim() ? token.trim() : null;
}

/** Reads the challenge (if any) and strips the whole fragment from the address bar. */
export function takeChallengeFromLocation(location: Location, history: History): string | null {
  const token = challengeFromFragment(location.hash);
  if (location.hash) history.replaceState(history.state, '', location.pathname + location.search);
  return token;
}

export type ChallengeSource =
  | { kind: 'bridge'; challengeToken: string; gatewayUrl: string }
  | { kind: 'fragment'; challengeToken: string; gatewayUrl: string }
  | { kind: 'none'; gatewayUrl: string };

export async function findChallenge(
  symphony: SymphonyBridge | undefined,
  location: Location,
  history: History,
): Promise<ChallengeSource> {
  if (symphony) {
    const { challengeToken, gatewayUrl } = await symphony.pair();
    return { kind: 'bridge', challengeToken, gatewayUrl: gatewayUrl ?? location.origin };
  }
  const challengeToken = takeChallengeFromLocation(location, history);
  return challengeToken
    ? { kind: 'fragment', challengeToken, gatewayUrl: location.origin }
    : { kind: 'none', gatewayUrl: location.origin };
}

/** The command that prints a fresh pairing URL for this page. */
export function pairCommand(origin: string): string {
  return `symphony-gateway pair --origin ${origin}`;
}
