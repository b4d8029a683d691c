// A ticket's conversations: the web app's session list, the chat in the ticket's
// worktree (NDJSON, `write`), chats about PR review comments (NDJSON, `read`), the
// stored histories and a commit message written from the worktree's diff.
import {
  ChatHistoryBody, ChatHistoryDeleteQuery, ChatHistoryPostResponse, ChatHistoryQuery, ChatHistoryResponse, CommentChatBody,
  CommentChatQuery, CommentChatResponse, CommentDeleteQuery, CommentParams, CommentPatchBody, CommitMessageQuery,
  CommitMessageResponse, OptionalRepoQuery, Success, SymphonyChatBody, TicketParams, TicketSessionBody, TicketSessionDeleteQuery,
  TicketSessionsResponse, UnreadCountResponse,
} from '../../../shared/schemas/symphony-chats.js';
import { callerKey, isRemoteCaller } from '../../auth/caller.js';
import { BadRequest } from '../../errors.js';
import { ticketSlug } from '../../symphony/ticket-worktree.js';
import { ndjson } from '../reply.js';
import { defineRoute, type AnyRoute } from '../route.js';

const API = '/api/gateway/symphony';
const CHAT = `${API}/chat/:ticketId`;
const COMMENT = `${API}/comment-chat/:commentId`;
const HISTORY = `${API}/chat-history/:ticketId`;

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET', path: `${API}/sessions`, summary: "The caller's ticket sessions (those whose worktree is gone are dropped).",
    response: TicketSessionsResponse,
    handler: async (_input, { services, caller }) => ({ sessions: await services.ticketSessions.list(callerKey(caller)) }),
  }),
  defineRoute({
    method: 'POST', path: `${API}/sessions`, summary: 'Create or replace the ticket session of `ticketId`.',
    body: TicketSessionBody, response: Success,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: async ({ body }, { services, caller }) => {
      await services.ticketSessions.upsert(callerKey(caller), body);
      return { success: true as const };
    },
  }),
  defineRoute({
    method: 'DELETE', path: `${API}/sessions`, summary: 'Forget the ticket session of `?ticketId=`.',
    query: TicketSessionDeleteQuery, response: Success,
    handler: ({ query }, { services, caller }) => {
      services.ticketSessions.remove(callerKey(caller), query.ticketId);
      return { success: true as const };
    },
  }),
  defineRoute({
    method: 'GET', path: `${API}/sessions/unread-count`,
    summary: 'How many ticket conversations end with a reply the caller has not read.',
    response: UnreadCountResponse,
    handler: (_input, { services, caller }) => ({ count: services.ticketConversations.unreadCount(callerKey(caller)) }),
  }),

  defineRoute({
    method: 'POST', path: CHAT, streams: true,
    summary: "One turn of the ticket's chat in its worktree (else the repository), streamed as NDJSON; `provider` picks claude or codex.",
    params: TicketParams, query: OptionalRepoQuery, body: SymphonyChatBody,
    classify: ({ params, body, query }, { services, caller }) => ({
      repoPath: body.repoPath ?? query.repo,
      conversation: { scope: `symphony:${params.ticketId}`, started: services.ticketConversations.started('symphony', callerKey(caller), params.ticketId, body.provider) },
    }),
    handler: async ({ params, query, body }, ctx) => {
      const repo = body.repoPath ?? query.repo;
      if (!repo) throw new BadRequest('repoPath is required (in the body, or as ?repo=).', { field: 'repoPath' }, 'invalid_input');
      ticketSlug(params.ticketId);
      const { services, caller } = ctx;
      const tools = services.policy.agentTools(
        { operation: 'symphony_chat', caller, path: CHAT, repoPath: repo, scope: `symphony:${params.ticketId}`, signal: ctx.signal, log: ctx.log },
        services.providers.get(body.provider ?? 'claude'),
        'write',
      );
      return ndjson(
        await services.ticketConversations.chat(callerKey(caller), params.ticketId, {
          message: body.message, repo, contextRepoPaths: body.contextRepoPaths, provider: body.provider,
          signal: ctx.signal, onApproval: tools.onApproval, level: tools.level, notice: tools.notice, approveWrites: tools.approveWrites,
        }),
      );
    },
  }),

  defineRoute({
    method: 'GET', path: COMMENT, summary: 'The conversation about one PR review comment.',
    params: CommentParams, query: CommentChatQuery, response: CommentChatResponse,
    handler: ({ params }, { services, caller }) => services.ticketConversations.commentThread(callerKey(caller), params.commentId),
  }),
  defineRoute({
    method: 'POST', path: COMMENT, streams: true,
    summary: 'One read-only turn about a PR review comment (the agent reads the worktree, never edits it), streamed as NDJSON.',
    params: CommentParams, query: CommentChatQuery, body: CommentChatBody,
    classify: ({ params, query, body }, { services, caller }) => ({
      repoPath: query.repo,
      conversation: { scope: `comment:${params.commentId}`, started: services.ticketConversations.started('comment', callerKey(caller), params.commentId, body.provider) },
    }),
    handler: async ({ params, query, body }, ctx) => {
      ticketSlug(query.ticketId);
      return ndjson(
        await ctx.services.ticketConversations.commentChat(callerKey(ctx.caller), params.commentId, query.ticketId, {
          message: body.message, repo: query.repo, commentContext: body.commentContext, provider: body.provider, signal: ctx.signal,
        }),
      );
    },
  }),
  defineRoute({
    method: 'PATCH', path: COMMENT,
    summary: 'Mark a reply as posted on the PR (`messageId`, else the last assistant message); `markResponded` is accepted for `responded`.',
    params: CommentParams, query: CommentChatQuery, body: CommentPatchBody, response: Success,
    handler: ({ params, body }, { services, caller }) => {
      services.ticketConversations.markResponded(callerKey(caller), params.commentId, body.messageId, body.responded ?? body.markResponded ?? true);
      return { success: true as const };
    },
  }),
  defineRoute({
    method: 'DELETE', path: COMMENT, summary: 'Delete the whole thread, or with `?index=` one message of it.',
    params: CommentParams, query: CommentDeleteQuery, response: Success,
    handler: async ({ params, query }, { services, caller }) => {
      await services.ticketConversations.removeComment(callerKey(caller), params.commentId, query.index);
      return { success: true as const };
    },
  }),

  defineRoute({
    method: 'GET', path: `${API}/commit-message/:ticketId`,
    summary: "A commit title and description for the worktree's changes (secret files never shown to the model; 30 s, else a default).",
    params: TicketParams, query: CommitMessageQuery, response: CommitMessageResponse,
    classify: ({ query }) => ({ repoPath: query.repo }),
    handler: async ({ params, query }, { services, signal, caller }) => {
      const place = await services.ticketConversations.place(query.repo, params.ticketId, signal);
      return services.commitMessages.write({ ticketId: params.ticketId, cwd: place.cwd, provider: query.provider, signal, caller: callerKey(caller) });
    },
  }),

  defineRoute({
    method: 'GET', path: HISTORY, summary: "The ticket's chat history with one provider (claude unless `?provider=`); reading marks it read.",
    params: TicketParams, query: ChatHistoryQuery, response: ChatHistoryResponse,
    handler: ({ params, query }, { services, caller }) => {
      ticketSlug(params.ticketId);
      return services.ticketConversations.history(callerKey(caller), params.ticketId, query.repo, query.provider);
    },
  }),
  defineRoute({
    method: 'POST', path: HISTORY, summary: 'Store a CLI session id (`{sessionId}`) or one message (`{message}`) in the history.',
    params: TicketParams, query: ChatHistoryQuery, body: ChatHistoryBody, response: ChatHistoryPostResponse,
    classify: ({ query }) => ({ repoPath: query.repo }),
    handler: ({ params, query, body }, { services, caller }) => {
      ticketSlug(params.ticketId);
      return services.ticketConversations.store(callerKey(caller), params.ticketId, query.repo, query.provider, body, { ownSessionsOnly: isRemoteCaller(caller) });
    },
  }),
  defineRoute({
    method: 'DELETE', path: HISTORY, summary: 'Delete the history (every provider\'s unless `?provider=`), or with `?index=` one message.',
    params: TicketParams, query: ChatHistoryDeleteQuery, response: ChatHistoryPostResponse.or(Success),
    handler: ({ params, query }, { services, caller }) =>
      services.ticketConversations.remove(callerKey(caller), params.ticketId, query.repo, query.provider, query.index),
  }),
];
