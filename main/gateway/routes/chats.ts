// Terminal, ticket and run-viewer chats: GET the caller's sessions with their history, POST
// one turn (answered as NDJSON events while the agent works), DELETE to end a session.
// Each conversation belongs to its caller. Starting one is a write for the policy (a paired
// origin is asked on its first turn); ticket and run-viewer chats' agents only read, a
// terminal chat's tool calls go through the policy's tool approver.
import {
  ChatDeleteResponse, ChatSessionsResponse, RunViewerChatBody, RunViewerChatDelete, RunViewerChatQuery,
  TerminalChatBody, TerminalChatDelete, TicketChatBody, TicketChatDelete, TicketChatQuery,
} from '../../../shared/schemas/chats.js';
import type { OperationId } from '../../../shared/operations.js';
import { callerKey } from '../../auth/caller.js';
import type { AgentConfinement } from '../../providers/confinement.js';
import type { ChatKind } from '../../symphony/chat-sessions.js';
import { pickProvider, runViewerCwd, terminalCwd, ticketContextText, ticketCwd } from '../../symphony/chat-scopes.js';
import type { ProviderId } from '../../providers/types.js';
import { ndjson } from '../reply.js';
import { defineRoute, type AnyRoute, type ClassifyContext, type RequestContext } from '../route.js';

const TERMINAL = '/api/gateway/terminal-chat';
const TICKET = '/api/gateway/ticket-chat';
const RUN_VIEWER = '/api/gateway/run-viewer-chat';

interface Conversation {
  kind: ChatKind;
  scope: string;
  provider: ProviderId;
  message: string;
}

/** What an agent route's classifier tells the policy: the conversation's scope, and whether its first turn ran. */
function conversation(which: Conversation, { services, caller }: ClassifyContext) {
  const started = services.chats.started({ kind: which.kind, scope: which.scope, provider: which.provider, caller: callerKey(caller) });
  return { scope: which.kind === 'terminal' ? 'terminal' : `${which.kind}:${which.scope}`, started };
}

/** One turn of the caller's conversation, with the tool level the policy lets this caller's agent have. */
async function turn(
  ctx: RequestContext,
  which: Conversation,
  start: { operation: OperationId; path: string; cwd: string; level: AgentConfinement['level']; context?: string; repoPath?: string },
) {
  const { services, caller } = ctx;
  const tools = services.policy.agentTools(
    { operation: start.operation, caller, path: start.path, repoPath: start.repoPath, signal: ctx.signal, log: ctx.log,
      scope: conversation(which, ctx).scope },
    services.providers.get(which.provider),
    start.level,
  );
  return ndjson(
    await services.chats.send({
      ...which, caller: callerKey(caller), cwd: start.cwd, context: start.context, signal: ctx.signal,
      confinement: { level: tools.level, root: start.cwd, approveWrites: tools.approveWrites }, onApproval: tools.onApproval, notice: tools.notice,
    }),
  );
}

const terminal = (body: { message: string; provider?: ProviderId }, { services }: Pick<ClassifyContext, 'services'>): Conversation => ({
  kind: 'terminal', scope: '', ...pickProvider(body.message, services.providers, { provider: body.provider, prefix: true }),
});
const ticket = (body: { ticketId: string; message: string; provider?: ProviderId }, { services }: Pick<ClassifyContext, 'services'>): Conversation => ({
  kind: 'ticket', scope: body.ticketId, ...pickProvider(body.message, services.providers, { provider: body.provider }),
});
const runViewer = (body: { runDir?: string; message: string; provider?: ProviderId }, { services }: Pick<ClassifyContext, 'services'>): Conversation => ({
  kind: 'run_viewer', scope: body.runDir ?? '', ...pickProvider(body.message, services.providers, { provider: body.provider }),
});

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET', path: TERMINAL, summary: "The caller's terminal chat sessions (one per agent) with their history.",
    response: ChatSessionsResponse,
    handler: (_input, { services, caller }) => ({ sessions: services.chats.list('terminal', undefined, callerKey(caller)) }),
  }),
  defineRoute({
    method: 'POST', path: TERMINAL, streams: true,
    summary: 'One terminal chat turn, streamed as NDJSON events; `provider` (or `@codex ` at the start) picks the agent.',
    body: TerminalChatBody,
    classify: ({ body }, ctx) => ({ conversation: conversation(terminal(body, ctx), ctx) }),
    handler: ({ body }, ctx) => {
      // The workspace root as it is now: a conversation started under another root moves with it.
      const cwd = terminalCwd(ctx.services.workspace);
      return turn(ctx, terminal(body, ctx), { operation: 'terminal_chat', path: TERMINAL, cwd, level: 'write' });
    },
  }),
  defineRoute({
    method: 'DELETE', path: TERMINAL, summary: "End the caller's terminal chat session(s) and stop a running turn.",
    body: TerminalChatDelete.optional(), query: TerminalChatDelete, response: ChatDeleteResponse,
    handler: ({ body, query }, { services, caller }) => services.chats.end('terminal', '', body?.provider ?? query.provider, callerKey(caller)),
  }),

  defineRoute({
    method: 'GET', path: TICKET, summary: "The caller's ticket chat sessions with their history (one ticket's with ticketId).",
    query: TicketChatQuery, response: ChatSessionsResponse,
    handler: ({ query }, { services, caller }) => ({ sessions: services.chats.list('ticket', query.ticketId, callerKey(caller)) }),
  }),
  defineRoute({
    method: 'POST', path: TICKET, streams: true,
    summary: 'One read-only chat turn about a ticket, streamed as NDJSON events; the folder is checked on every turn.',
    body: TicketChatBody,
    classify: ({ body }, ctx) => ({ repoPath: body.repoPath, conversation: conversation(ticket(body, ctx), ctx) }),
    handler: async ({ body }, ctx) => {
      const cwd = await ticketCwd(ctx.services.workspace, body.repoPath);
      return turn(ctx, ticket(body, ctx), {
        operation: 'ticket_chat', path: TICKET, cwd, level: 'read', repoPath: body.repoPath,
        context: ticketContextText(body.ticketId, body.ticketContext),
      });
    },
  }),
  defineRoute({
    method: 'DELETE', path: TICKET, summary: "End the caller's chat session(s) about a ticket and stop a running turn.",
    body: TicketChatDelete.optional(), query: TicketChatDelete, response: ChatDeleteResponse,
    handler: ({ body, query }, { services, caller }) =>
      services.chats.end('ticket', body?.ticketId ?? query.ticketId ?? '', body?.provider ?? query.provider, callerKey(caller)),
  }),

  defineRoute({
    method: 'GET', path: RUN_VIEWER, summary: "The caller's run-viewer chat sessions with their history (one run's with runDir).",
    query: RunViewerChatQuery, response: ChatSessionsResponse,
    handler: ({ query }, { services, caller }) => ({ sessions: services.chats.list('run_viewer', query.runDir, callerKey(caller)) }),
  }),
  defineRoute({
    method: 'POST', path: RUN_VIEWER, streams: true,
    summary: 'One read-only chat turn about an unpacked run, streamed as NDJSON events.',
    body: RunViewerChatBody,
    classify: ({ body }, ctx) => ({ conversation: conversation(runViewer(body, ctx), ctx) }),
    handler: async ({ body }, ctx) => {
      const cwd = await runViewerCwd(ctx.services.dataDir, body.runDir, (dir) => ctx.services.runArchives.resolveRunDir(dir));
      return turn(ctx, runViewer(body, ctx), { operation: 'run_viewer_chat', path: RUN_VIEWER, cwd, level: 'read' });
    },
  }),
  defineRoute({
    method: 'DELETE', path: RUN_VIEWER, summary: "End the caller's chat session(s) about a run and stop a running turn.",
    body: RunViewerChatDelete.optional(), query: RunViewerChatDelete, response: ChatDeleteResponse,
    handler: ({ body, query }, { services, caller }) =>
      services.chats.end('run_viewer', body?.runDir ?? query.runDir ?? '', body?.provider ?? query.provider, callerKey(caller)),
  }),
];
