// What the Electron preload exposes on window.symphony (main/app/preload.cts), as far as the
// renderer uses it. In headless mode (the page the gateway serves at /ui/) there is no bridge.

export interface PairResult {
  challengeToken: string;
  /** Where the gateway listens; the Electron window is not served by the gateway. */
  gatewayUrl?: string;
}

export interface SymphonyBridge {
  pair(): Promise<PairResult>;
  /** A request started waiting for a decision; returns an unsubscribe function. */
  onApproval?(listener: () => void): () => void;
  /** Fires when main wants the approvals screen shown (e.g. a notification was clicked). */
  onShowApprovals?(listener: () => void): () => void;
  /** Opens a loopback URL (a dev server) in the user's browser. */
  openPreview?(url: string): Promise<void>;
}

declare global {
  interface Window {
    symphony?: SymphonyBridge;
  }
}

export function bridge(): SymphonyBridge | undefined {
  return typeof window.symphony?.pair === 'function' ? window.symphony : undefined;
}
