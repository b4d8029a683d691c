// The only bridge between the sandboxed renderer and the main process.
// A .cts file on purpose: tsc emits it as CommonJS (dist/main/app/preload.cjs), which is
// what a sandboxed preload must be (no ESM, no relative requires, only 'electron').
// It therefore imports nothing at runtime but electron; the types below are shared with
// main/app/ipc.ts through type-only imports.
import { contextBridge, ipcRenderer } from 'electron';
import type { ApprovalOutcome, PendingApproval } from '../auth/approvals.js';

export type Channel =
  | 'symphony:pair'
  | 'symphony:decide-approval'
  | 'symphony:app-info'
  | 'symphony:approval'
  | 'symphony:show-approvals'
  | 'symphony:open-preview';

export interface PairResult {
  challengeToken: string;
  /** Always the renderer's own origin, app://symphony. */
  origin: string;
  expiresAt: string;
  port: number;
  /** http://127.0.0.1:PORT: where the renderer exchanges the challenge and calls the API. */
  gatewayUrl: string;
}

export interface AppInfo {
  name: string;
  version: string;
  electron: string;
  chrome: string;
  node: string;
  platform: string;
  gatewayUrl: string;
}

export interface SymphonyBridge {
  pair(): Promise<PairResult>;
  /** A request is waiting for a decision; returns an unsubscribe function. */
  onApproval(listener: (approval: PendingApproval) => void): () => void;
  decideApproval(id: string, outcome: ApprovalOutcome): Promise<void>;
  /** Main wants the approvals screen shown (a notification or the tray was clicked). */
  onShowApprovals(listener: () => void): () => void;
  appInfo(): Promise<AppInfo>;
  /** Opens a dev server's loopback URL in the user's browser (other URLs are refused). */
  openPreview(url: string): Promise<void>;
}

const invoke = (channel: Channel, ...args: unknown[]) => ipcRenderer.invoke(channel, ...args);

/** Subscribes without handing the renderer the IpcRendererEvent (it exposes the sender). */
function subscribe<T>(channel: Channel, listener: (payload: T) => void): () => void {
  const handler = (_event: unknown, payload: T) => listener(payload);
  ipcRenderer.on(channel, handler);
  return () => {
    ipcRenderer.removeListener(channel, handler);
  };
}

const bridge: SymphonyBridge = {
  pair: () => invoke('symphony:pair') as Promise<PairResult>,
  onApproval: (listener) => subscribe('symphony:approval', listener),
  decideApproval: async (id, outcome) => {
    await invoke('symphony:decide-approval', id, outcome);
  },
  onShowApprovals: (listener) => subscribe<void>('symphony:show-approvals', () => listener()),
  appInfo: () => invoke('symphony:app-info') as Promise<AppInfo>,
  openPreview: async (url) => {
    await invoke('symphony:open-preview', url);
  },
};

contextBridge.exposeInMainWorld('symphony', bridge);
