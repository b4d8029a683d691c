// Terminal, ticket and run-viewer chats: GET the sessions with their history, POST one
// turn (answered as NDJSON events while the agent works), DELETE to end a session.
// Ticket and run-viewer chats are read-only; a terminal chat's tool approvals go through
// the approval policy like any request of this operation.
import {
  ChatDeleteResponse, ChatSessionsResponse, RunViewerChatBody, RunViewerChatDelete, RunViewerChatQuery,
  TerminalChatBody, TerminalChatDelete, TicketChatBody, TicketChatDelete, TicketChatQuery,
} from '../../../shared/schemas/chats.js';
import type { OperationId } from '../../../shared/operations.js';
import type { ApprovalAnswer, ApprovalAsk } from '../../providers/types.js';
import { pickProvider, runViewerCwd, terminalCwd, ticketContextText, ticketCwd } from '../../symphony/chat-scopes.js';
import { ndjson } from '../reply.js';
import { defineRoute, type AnyRoute, type RequestContext } from '../route.js';
import { isRemoteCaller } from '../../auth/caller.js';

const TERMINAL = '/api/gateway/terminal-chat';
const TICKET = '/api/gateway/ticket-chat';
const RUN_VIEWER = '/api/gateway/run-viewer-chat';

/**
 * A tool the agent wants to run is a write of the chat's operation: the policy
 * allows, asks the desktop, or denies. For a paired web origin it always asks (unless the
 * user allowed it always), since the tool runs on this machine.
 */
export function toolApprover(ctx: RequestContext, operation: OperationId = 'terminal_chat', path = TERMINAL) {
  return async (ask: ApprovalAsk, turnStopped: AbortSignal): Promise<ApprovalAnswer> => {
    try {
      await ctx.services.policy.authorize({
        operation, caller: ctx.caller, method: 'POST', path, access: 'write',
        action: 'tool_use', repoPath: null, args: { tool: ask.toolName, input: ask.input },
        forceApproval: isRemoteCaller(ctx.caller), claimedReason: null, signal: AbortSignal.any([ctx.signal, turnStopped]),
      });
      return 'allow';
    } catch (error) {
      ctx.log.info({ tool: ask.toolName, err: (error as Error).message }, 'chat tool use not approved');
      return 'deny';
    }
  };
}

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET', path: TERMINAL, summary: 'Terminal chat sessions (one per agent) with their history.',
    response: ChatSessionsResponse,
    handler: (_input, { services }) => ({ sessions: services.chats.list('terminal') }),
  }),
  defineRoute({
    method: 'POST', path: TERMINAL, streams: true,
    summary: 'One terminal chat turn, streamed as NDJSON events; `@codex ` at the start talks to Codex.',
    body: TerminalChatBody,
    handler: async ({ body }, ctx) => {
      const { provider, message } = pickProvider(body.message, ctx.services.providers);
      const cwd = terminalCwd(ctx.services.workspace);
      return ndjson(
        await ctx.services.chats.send({
          kind: 'terminal', scope: '', provider, message, cwd, confinement: { level: 'write', root: cwd },
          signal: ctx.signal, onApproval: toolApprover(ctx),
        }),
      );
    },
  }),
  defineRoute({
    method: 'DELETE', path: TERMINAL, summary: 'End the terminal chat session(s) and stop a running turn.',
    body: TerminalChatDelete.optional(), query: TerminalChatDelete, response: ChatDeleteResponse,
    handler: ({ body, query }, { services }) => services.chats.end('terminal', '', body?.provider ?? query.provider),
  }),

  defineRoute({
    method: 'GET', path: TICKET, summary: "Ticket chat sessions with their history (one ticket's with ticketId).",
    query: TicketChatQuery, response: ChatSessionsResponse,
    handler: ({ query }, { services }) => ({ sessions: services.chats.list('ticket', query.ticketId) }),
  }),
  defineRoute({
    method: 'POST', path: TICKET, streams: true,
    summary: 'One read-only chat turn about a ticket, streamed as NDJSON events.',
    body: TicketChatBody,
    classify: ({ body }) => ({ access: 'read', repoPath: body.repoPath }),
    handler: async ({ body }, ctx) => {
      const { provider, message } = pickProvider(body.message, ctx.services.providers);
      const cwd = await ticketCwd(ctx.services.workspace, body.repoPath);
      return ndjson(
        await ctx.services.chats.send({
          kind: 'ticket', scope: body.ticketId, provider, message, signal: ctx.signal,
          cwd, confinement: { level: 'read', root: cwd },
          context: ticketContextText(body.ticketId, body.ticketContext),
        }),
      );
    },
  }),
  defineRoute({
    method: 'DELETE', path: TICKET, summary: "End a ticket's chat session(s) and stop a running turn.",
    body: TicketChatDelete.optional(), query: TicketChatDelete, response: ChatDeleteResponse,
    handler: ({ body, query }, { services }) =>
      services.chats.end('ticket', body?.ticketId ?? query.ticketId ?? '', body?.provider ?? query.provider),
  }),

  defineRoute({
    method: 'GET', path: RUN_VIEWER, summary: 'Run-viewer chat sessions with their history (one run\'s with runDir).',
    query: RunViewerChatQuery, response: ChatSessionsResponse,
    handler: ({ query }, { services }) => ({ sessions: services.chats.list('run_viewer', query.runDir) }),
  }),
  defineRoute({
    method: 'POST', path: RUN_VIEWER, streams: true,
    summary: 'One read-only chat turn about an unpacked run, streamed as NDJSON events.',
    body: RunViewerChatBody,
    classify: () => ({ access: 'read' }),
    handler: async ({ body }, ctx) => {
      const { provider, message } = pickProvider(body.message, ctx.services.providers);
      const cwd = await runViewerCwd(ctx.services.dataDir, body.runDir, (dir) => ctx.services.runArchives.resolveRunDir(dir));
      return ndjson(
        await ctx.services.chats.send({
          kind: 'run_viewer', scope: body.runDir ?? '', provider, message, signal: ctx.signal,
          cwd, confinement: { level: 'read', root: cwd },
        }),
      );
    },
  }),
  defineRoute({
    method: 'DELETE', path: RUN_VIEWER, summary: "End a run's chat session(s) and stop a running turn.",
    body: RunViewerChatDelete.optional(), query: RunViewerChatDelete, response: ChatDeleteResponse,
    handler: ({ body, query }, { services }) =>
      services.chats.end('run_viewer', body?.runDir ?? query.runDir ?? '', body?.provider ?? query.provider),
  }),
];
