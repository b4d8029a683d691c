// What the tray and the native notifications say. Plain Node: main/app/ only displays it.
import type { PendingApproval } from '../auth/approvals.js';
import type { Session } from '../auth/sessions.js';

export interface GatewayStatus {
  port: number;
  /** Distinct browser origins with a live session (the app's own window not counted). */
  pairedOrigins: number;
  runningProcesses: number;
  pendingApprovals: number;
}

export function countPairedOrigins(sessions: readonly Session[]): number {
  return new Set(sessions.filter((session) => session.kind === 'origin').map((session) => session.origin)).size;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`;

/** Lines for the tray menu; the first one doubles as the tooltip. */
export function statusLines(status: GatewayStatus): string[] {
  const lines = [
    `Gateway on 127.0.0.1:${status.port}`,
    plural(status.pairedOrigins, 'paired origin'),
    plural(status.runningProcesses, 'running process'),
  ];
  if (status.pendingApprovals > 0) lines.push(`${plural(status.pendingApprovals, 'approval')} waiting`);
  return lines;
}

/** Notification text for a waiting request: who (as claimed, and said so) asks for what. */
export function describeApproval(approval: PendingApproval): { title: string; body: string } {
  const who =
    approval.caller.kind === 'origin'
      ? (approval.caller.origin ?? 'A paired page')
      : approval.caller.kind === 'renderer'
        ? 'This app'
        : 'A local tool';
  const target = approval.repoPath ? ` on ${approval.repoPath}` : '';
  const lines = [`${who} asks to run ${approval.operation}${approval.action ? ` (${approval.action})` : ''}${target}.`];
  if (approval.caller.claimedSource) lines.push(`Source (as claimed): ${approval.caller.claimedSource}`);
  if (approval.claimedReason) lines.push(`Reason (as claimed): ${approval.claimedReason}`);
  return { title: 'Approval requested', body: lines.join('\n') };
}
