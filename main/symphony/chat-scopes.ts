// Where each kind of chat runs and which agent it talks to, from what the client sent.
// Every path goes through a check: repositories through the workspace guard, run
// directories must be one of the run viewer's own unpacked runs.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BadRequest } from '../errors.js';
import type { WorkspaceGuard } from '../files/workspace.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ProviderId } from '../providers/types.js';

/**
 * Which agent a chat turn talks to: the validated `provider` field, else claude. In the
 * terminal a leading `@codex ` (any registered agent's name) picks it too; an `@name` that
 * is no agent, or one that contradicts `provider`, is a 400 rather than a message to claude.
 */
export function pickProvider(
  message: string,
  providers: Pick<ProviderRegistry, 'has'>,
  options: { provider?: ProviderId; prefix?: boolean } = {},
): { provider: ProviderId; message: string } {
  const match = options.prefix ? /^@([A-Za-z][\w-]*)(?:\s+|$)/.exec(message) : null;
  if (!match) return { provider: options.provider ?? 'claude', message };
  const named = match[1].toLowerCase() as ProviderId;
  if (!providers.has(named)) {
    throw new BadRequest(`No agent is called @${match[1]}: start the message with @claude or @codex, or set "provider".`, {
      issues: [{ field: 'message', message: `unknown agent @${match[1]}` }],
    }, 'unknown_provider');
  }
  if (options.provider && options.provider !== named) {
    throw new BadRequest(`The message names @${named} but "provider" is ${options.provider}: send one of them.`, {
      issues: [{ field: 'provider', message: `contradicts @${named}` }],
    }, 'invalid_input');
  }
  const rest = message.slice(match[0].length);
  if (!rest.trim()) throw new BadRequest(`The message after @${named} is empty.`, { issues: [{ field: 'message', message: 'empty' }] }, 'invalid_input');
  return { provider: named, message: rest };
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
