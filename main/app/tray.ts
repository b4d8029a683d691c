// Tray icon with the gateway's status, and approval requests and runs that need the user
// (plan ready, failed, interrupted) as native notifications.
import { Menu, Notification, Tray, nativeImage } from 'electron';
import { runNotice } from '../../shared/run-notices.js';
import type { PendingApproval } from '../auth/approvals.js';
import type { Services } from '../services.js';
import { countPairedOrigins, describeApproval, statusLines, type GatewayStatus } from '../desktop-ui/status.js';

export interface TrayContext {
  services: Services;
  port: number;
  icon: string;
  /** Live children of the supervisor. */
  runningProcesses: () => number;
  showWindow: () => void;
  showApprovals: () => void;
  quit: () => void;
}

const REFRESH_MS = 5_000;

export function createTray(context: TrayContext): { dispose(): void } {
  const { services } = context;
  const tray = new Tray(nativeImage.createFromPath(context.icon).resize({ width: 22, height: 22 }));

  const status = (): GatewayStatus => ({
    port: context.port,
    pairedOrigins: countPairedOrigins(services.sessions.list()),
    runningProcesses: context.runningProcesses(),
    pendingApprovals: services.approvals.list().length,
  });

  const refresh = () => {
    const current = status();
    const lines = statusLines(current);
    tray.setToolTip(`Symphony Desktop\n${lines.join('\n')}`);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        ...lines.map((label) => ({ label, enabled: false })),
        { type: 'separator' },
        { label: 'Open Symphony Desktop', click: context.showWindow },
        { label: 'Approvals…', click: context.showApprovals, enabled: current.pendingApprovals > 0 },
        { type: 'separator' },
        { label: 'Quit', click: context.quit },
      ]),
    );
  };

  const notify = (approval: PendingApproval) => {
    refresh();
    if (!Notification.isSupported()) return;
    const notification = new Notification(describeApproval(approval));
    notification.on('click', context.showApprovals);
    notification.show();
  };

  let disposed = false;
  services.onRunEnded((run) => {
    const notice = disposed ? null : runNotice(run);
    if (!notice || !Notification.isSupported()) return;
    const notification = new Notification({ title: notice.title, body: notice.body });
    notification.on('click', context.showWindow);
    notification.show();
  });

  tray.on('click', context.showWindow);
  services.approvals.on('pending', notify);
  services.approvals.on('settled', refresh);
  const timer = setInterval(refresh, REFRESH_MS);
  refresh();

  return {
    dispose() {
      disposed = true;
      clearInterval(timer);
      services.approvals.off('pending', notify);
      services.approvals.off('settled', refresh);
      tray.destroy();
    },
  };
}
