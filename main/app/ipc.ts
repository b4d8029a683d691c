// IPC handlers behind window.symphony. Every handler first checks that the call comes
// from the renderer's own origin: a frame that navigated elsewhere gets nothing.
import { ipcMain, shell, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { ApprovalDecisionRequest, ApprovalIdParams } from '../../shared/schemas/gateway.js';
import { PRODUCT_NAME } from '../config/paths.js';
import { loopbackUrl } from '../deploy/net.js';
import { Forbidden } from '../errors.js';
import type { Services } from '../services.js';
import { isRendererUrl, RENDERER_ORIGIN } from '../desktop-ui/renderer-files.js';
import type { AppInfo, Channel, PairResult } from './preload.cjs';

export interface IpcContext {
  services: Services;
  gateway: { port: number; url: string };
  window: () => BrowserWindow | undefined;
}

const PAIR: Channel = 'symphony:pair';
const DECIDE_APPROVAL: Channel = 'symphony:decide-approval';
const APP_INFO: Channel = 'symphony:app-info';
const APPROVAL: Channel = 'symphony:approval';
const SHOW_APPROVALS: Channel = 'symphony:show-approvals';
const OPEN_PREVIEW: Channel = 'symphony:open-preview';

function assertRenderer(event: IpcMainInvokeEvent): void {
  const url = event.senderFrame?.url;
  if (!url || !isRendererUrl(url)) throw new Forbidden('IPC is only for the app window.');
}

export function registerIpc({ services, gateway, window }: IpcContext): () => void {
  // Main mints; the renderer exchanges it at /gateway-auth/exchange itself, so the session
  // token lives only in the renderer's memory (its session is an in-memory partition).
  ipcMain.handle(PAIR, (event): PairResult => {
    assertRenderer(event);
    const challenge = services.challenges.mint(RENDERER_ORIGIN);
    return { ...challenge, port: gateway.port, gatewayUrl: gateway.url };
  });

  ipcMain.handle(DECIDE_APPROVAL, (event, id: unknown, outcome: unknown) => {
    assertRenderer(event);
    const { approvalId } = ApprovalIdParams.parse({ approvalId: id });
    services.approvals.decide(approvalId, { ...ApprovalDecisionRequest.parse(outcome), decidedBy: 'renderer' });
  });

  ipcMain.handle(APP_INFO, (event): AppInfo => {
    assertRenderer(event);
    return {
      name: PRODUCT_NAME,
      version: services.version,
      electron: process.versions.electron,
      chrome: process.versions.chrome,
      node: process.versions.node,
      platform: process.platform,
      gatewayUrl: gateway.url,
    };
  });

  // Only a dev server on this machine: the renderer cannot make main open arbitrary URLs.
  ipcMain.handle(OPEN_PREVIEW, async (event, url: unknown) => {
    assertRenderer(event);
    const preview = typeof url === 'string' ? loopbackUrl(url) : null;
    if (!preview) throw new Forbidden('Only http(s) URLs on this machine are opened.');
    await shell.openExternal(preview.href);
  });

  const forwardApproval = (approval: unknown) => window()?.webContents.send(APPROVAL, approval);
  services.approvals.on('pending', forwardApproval);

  return () => {
    for (const channel of [PAIR, DECIDE_APPROVAL, APP_INFO, OPEN_PREVIEW]) ipcMain.removeHandler(channel);
    services.approvals.off('pending', forwardApproval);
  };
}

/** Asks the renderer to show its approvals screen (once it has loaded, if it is loading). */
export function showApprovalsScreen(window: BrowserWindow): void {
  const send = () => window.webContents.send(SHOW_APPROVALS);
  if (window.webContents.isLoading()) window.webContents.once('did-finish-load', send);
  else send();
}
