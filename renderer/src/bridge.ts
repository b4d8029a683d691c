// What the Electron preload exposes on window.symphony (main/app/preload.ts). In headless
// mode (the page served by the gateway at /ui/) there is no bridge at all.

export interface PairResult {
  challengeToken: string;
  /** Where the gateway listens; the Electron window is not served by the gateway. */
  gatewayUrl?: string;
}

export interface SymphonyBridge {
  pair(): Promise<PairResult>;
  /** Fires when main wants the approvals screen shown (e.g. a notification was clicked). */
  onShowApprovals?(listener: () => void): () => void;
}

declare global {
  interface Window {
    symphony?: SymphonyBridge;
  }
}

export function bridge(): SymphonyBridge | undefined {
  return typeof window.symphony?.pair === 'function' ? window.symphony : undefined;
}
