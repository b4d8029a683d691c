// A ticket's conversations in its worktree (symphony/chat, chat-history) and the
// conversations about PR review comments (comment-chat), on the one ChatService. A
// ticket chat edits its worktree (`write`), with context repositories readable only;
// a comment chat discusses and never edits (`read`).
import type { NormalizedEvent } from '../../shared/events.js';
import type { CommentContext, HistoryMessage } from '../../shared/schemas/symphony-chats.js';
import { BadRequest } from '../errors.js';
import type { PathGuard } from '../git/types.js';
import type { ProviderId, TurnOptions } from '../providers/types.js';
import type { ChatKey, ChatMessage, ChatService } from './chat-sessions.js';
import type { TicketWorktrees } from './ticket-worktree.js';

/** Where a ticket's agent works: its worktree when it has one, else the repository itself. */
export interface TicketPlace {
  /** The repository's main checkout. */
  repoPath: string;
  cwd: string;
  inWorktree: boolean;
}

interface TurnInput {
  message: string;
  repo: string;
  signal: AbortSignal;
  provider?: ProviderId;
  onApproval?: TurnOptions['onApproval'];
  /** The ticket chat's tool level for this caller (default `write`; see PolicyService.agentTools). */
  level?: 'read' | 'write';
  /** Every write asks the approver (see AgentConfinement.approveWrites). */
  approveWrites?: boolean;
  notice?: string | null;
}

export class TicketConversations {
  constructor(private readonly deps: { chats: ChatService; worktrees: TicketWorktrees; guard: PathGuard }) {}

  async place(repo: string, ticketId: string, signal?: AbortSignal): Promise<TicketPlace> {
    const resolved = await this.deps.guard.resolve(repo);
    const worktree = await this.deps.worktrees.find(resolved, ticketId, signal);
    return worktree
      ? { repoPath: worktree.repoPath, cwd: worktree.path, inWorktree: true }
      : { repoPath: resolved, cwd: resolved, inWorktree: false };
  }

  /** Whether a turn ran in the conversation already (a paired origin is asked on its first only). */
  started(kind: 'symphony' | 'comment', caller: string, scope: string, provider?: ProviderId): boolean {
    return this.deps.chats.started(key(caller, kind, scope, provider));
  }

  /** One turn of the ticket's conversation with `provider`, editing its worktree. */
  async chat(caller: string, ticketId: string, input: TurnInput & { contextRepoPaths?: string[] }): Promise<AsyncIterable<NormalizedEvent>> {
    const [place, readRoots] = await Promise.all([
      this.place(input.repo, ticketId, input.signal),
      Promise.all((input.contextRepoPaths ?? []).map((p) => this.deps.guard.resolve(p))),
    ]);
    const key = ticketKey(caller, ticketId, input.provider);
    // A conversation resumes where it started (the CLI session is bound to its folder).
    const cwd = this.deps.chats.get(key)?.cwd ?? place.cwd;
    return this.deps.chats.send({
      ...key, cwd, message: input.message, signal: input.signal, onApproval: input.onApproval, notice: input.notice,
      context: readRoots.length ? contextReposText(readRoots) : undefined,
      details: { repoPath: place.repoPath, contextRepoPaths: readRoots },
      confinement: { level: input.level ?? 'write', root: cwd, readRoots, approveWrites: input.approveWrites },
    });
  }

  /** The ticket's history with one provider (claude unless named); a GET (`markRead`) marks it read. */
  async history(caller: string, ticketId: string, repo: string, provider?: ProviderId, markRead = true) {
    const repoPath = await this.deps.guard.resolve(repo);
    const session = this.deps.chats.get(ticketKey(caller, ticketId, provider));
    if (session && markRead) this.deps.chats.markRead(session.id);
    const codex = provider === 'codex' ? session : this.deps.chats.get(ticketKey(caller, ticketId, 'codex'));
    return {
      messages: (session?.messages ?? []).map(historyMessage),
      ticketId,
      repoPath: typeof session?.details?.repoPath === 'string' ? session.details.repoPath : repoPath,
      ...(session?.cliSessionId ? { sessionId: session.cliSessionId } : {}),
      codexSessionExists: Boolean(codex?.cliSessionId),
    };
  }

  /** Stores what the client sends: a CLI session to resume, or a message it kept itself. */
  async store(
    caller: string,
    ticketId: string,
    repo: string,
    provider: ProviderId | undefined,
    body: { sessionId: string } | { message: { id: string; role: 'user' | 'assistant'; content: string; timestamp: string | number; sender?: string } },
    /** A remote caller links only CLI sessions of its own conversations (see ChatService.linkCliSession). */
    options: { ownSessionsOnly?: boolean } = {},
  ) {
    const key = ticketKey(caller, ticketId, provider);
    const cwd = this.deps.chats.get(key)?.cwd ?? (await this.place(repo, ticketId)).cwd;
    if ('sessionId' in body) {
      this.deps.chats.linkCliSession(key, cwd, body.sessionId, { ownOnly: options.ownSessionsOnly });
      return { success: true as const, sessionId: body.sessionId };
    }
    const { message } = body;
    this.deps.chats.append(key, cwd, {
      role: message.role, content: message.content, clientId: message.id, sender: message.sender, createdAt: timestampOf(message.timestamp),
    });
    const { codexSessionExists: _, ...history } = await this.history(caller, ticketId, repo, provider, false);
    return { success: true as const, history };
  }

  /** Removes one message (`index`), or the whole history (every provider's unless one is named). */
  async remove(caller: string, ticketId: string, repo: string, provider: ProviderId | undefined, index: number | undefined) {
    if (index === undefined) {
      const providers: ProviderId[] = provider ? [provider] : ['claude', 'codex'];
      for (const each of providers) await this.deps.chats.end('symphony', ticketId, each, caller);
      return { success: true as const };
    }
    this.deps.chats.removeMessage(ticketKey(caller, ticketId, provider), index);
    const { codexSessionExists: _, ...history } = await this.history(caller, ticketId, repo, provider, false);
    return { success: true as const, history };
  }

  /** One turn about a PR review comment, in the ticket's worktree, read-only. */
  async commentChat(
    caller: string,
    commentId: string,
    ticketId: string,
    input: TurnInput & { commentContext?: CommentContext },
  ): Promise<AsyncIterable<NormalizedEvent>> {
    const key = commentKey(caller, commentId, input.provider);
    const existing = this.deps.chats.get(key);
    const commentContext = input.commentContext ?? (existing?.details?.commentContext as CommentContext | undefined);
    const cwd = existing?.cwd ?? (await this.place(input.repo, ticketId, input.signal)).cwd;
    return this.deps.chats.send({
      ...key, cwd, message: input.message, signal: input.signal,
      context: commentContext ? commentContextText(commentContext) : undefined,
      details: { ticketId, ...(commentContext ? { commentContext } : {}) },
      confinement: { level: 'read', root: cwd },
    });
  }

  commentThread(caller: string, commentId: string, provider?: ProviderId) {
    const session = this.deps.chats.get(commentKey(caller, commentId, provider));
    const commentContext = session?.details?.commentContext as CommentContext | undefined;
    return {
      messages: (session?.messages ?? []).map(historyMessage),
      commentId,
      ...(commentContext ? { commentContext } : {}),
      ...(session?.cliSessionId ? { sessionId: session.cliSessionId } : {}),
    };
  }

  markResponded(caller: string, commentId: string, messageId: string | number | undefined, responded: boolean): void {
    this.deps.chats.markResponded(commentKey(caller, commentId), messageId === undefined ? undefined : String(messageId), responded);
  }

  /** The whole thread, or the message at `index` only. */
  async removeComment(caller: string, commentId: string, index: number | undefined): Promise<void> {
    if (index === undefined) await this.deps.chats.end('comment', commentId, undefined, caller);
    else this.deps.chats.removeMessage(commentKey(caller, commentId), index);
  }

  /** Ticket conversations whose last message is a reply the caller has not read. */
  unreadCount(caller: string): number {
    return this.deps.chats.unreadCount('symphony', caller);
  }
}

/** Every conversation here is its caller's own (claude unless a provider is named). */
function key(caller: string, kind: ChatKey['kind'], scope: string, provider: ProviderId = 'claude'): ChatKey {
  return { caller, kind, scope, provider };
}
const ticketKey = (caller: string, ticketId: string, provider?: ProviderId) => key(caller, 'symphony', ticketId, provider);
const commentKey = (caller: string, commentId: string, provider?: ProviderId) => key(caller, 'comment', commentId, provider);

/** The original's history message: the client's own id where it gave one. */
function historyMessage(message: ChatMessage): HistoryMessage {
  return {
    id: message.clientId ?? String(message.id),
    role: message.role,
    content: message.content,
    timestamp: message.createdAt,
    status: message.status,
    ...(message.sender === undefined ? {} : { sender: message.sender }),
    ...(message.responded ? { responded: true } : {}),
  };
}

function timestampOf(value: string | number): number {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new BadRequest('message.timestamp must be an ISO date or milliseconds since 1970.', { field: 'message.timestamp' }, 'invalid_input');
  return ms;
}

function contextReposText(readRoots: string[]): string {
  return `Other repositories you may read for context (never edit them):\n${readRoots.map((p) => `- ${p}`).join('\n')}`;
}

/** The comment as the agent first hears of it: quoted, so it reads as what someone wrote, not as instructions. */
export function commentContextText(comment: CommentContext): string {
  const where = comment.path ? ` on ${comment.path}${comment.line ? `:${comment.line}` : ''}` : '';
  const replies = (comment.replies ?? []).map((reply) =>
    typeof reply === 'string' ? quote(reply) : `${reply.author ?? 'someone'} replied:\n${quote(reply.body)}`,
  );
  return [
    `You are discussing a pull-request review comment by ${comment.author}${where}${comment.url ? ` (${comment.url})` : ''}.`,
    'You can read the code in this folder but not change it. The comment:',
    quote(comment.body),
    ...replies,
  ].join('\n\n');
}

function quote(text: string): string {
  return text.split('\n').map((line) => `> ${line}`).join('\n');
}
