// Where each kind of chat runs and which agent it talks to, from what the client sent.
// Every path goes through a check: repositories through the workspace guard, run
// directories must be one of the run viewer's own unpacked runs.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkspaceGuard } from '../files/workspace.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ProviderId } from '../providers/types.js';

/** `@codex fix it` talks to codex; without a known `@provider` prefix, claude. */
export function pickProvider(message: string, providers: ProviderRegistry): { provider: ProviderId; message: string } {
  const match = /^@([a-z]+)\s+([\s\S]+)$/i.exec(message);
  const named = match?.[1].toLowerCase() as ProviderId | undefined;
  if (match && named && providers.has(named)) return { provider: named, message: match[2] };
  return { provider: 'claude', message };
}

/** Terminal chats run where the user's projects are: the workspace root (none set: 403 saying how to set it). */
export function terminalCwd(workspace: WorkspaceGuard): string {
  return workspace.requireWorkspaceRoot();
}

export async function ticketCwd(workspace: WorkspaceGuard, repoPath: string | undefined): Promise<string> {
  return repoPath ? workspace.resolve(repoPath) : terminalCwd(workspace);
}

/** A run-viewer chat works in one uploaded run (checked by the run archives), else in a scratch dir. */
export async function runViewerCwd(
  dataDir: string,
  runDir: string | undefined,
  resolveRunDir: (runDir: string) => Promise<string>,
): Promise<string> {
  if (runDir) return resolveRunDir(runDir);
  const scratch = join(dataDir, 'chats', 'run-viewer');
  await mkdir(scratch, { recursive: true });
  return scratch;
}

/** The ticket as the agent first hears of it. */
export function ticketContextText(ticketId: string, context: string | Record<string, unknown>): string {
  const body = typeof context === 'string' ? context : JSON.stringify(context, null, 2);
  return `You are answering questions about ticket ${ticketId}. Ticket context:\n${body}`;
}
