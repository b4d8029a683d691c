// POST /chat: the web client's chat panel, answered as NDJSON (spec §7). The folder is
// checked before the stream starts (a bad path is a JSON 403, not an event).
import { GatewayChatBody } from '../../../shared/schemas/gateway-chat.js';
import { callerKey } from '../../auth/caller.js';
import { ndjson } from '../reply.js';
import { defineRoute, type AnyRoute } from '../route.js';

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'POST', path: '/api/gateway/chat', streams: true,
    summary: "One turn of the web app's chat (chatKey, per caller), streamed as NDJSON and recorded at the configured API origin.",
    body: GatewayChatBody,
    // An agent start: a paired origin is asked on a conversation's first turn ("allow always" per chatKey).
    classify: ({ body }, { services, caller }) => ({
      repoPath: body.cwd,
      conversation: { scope: `web:${body.chatKey}`, started: services.chats.started({ kind: 'web', scope: body.chatKey, provider: body.provider, caller: callerKey(caller) }) },
    }),
    handler: async ({ body }, ctx) => {
      const cwd = body.cwd ? await ctx.services.workspace.resolve(body.cwd) : ctx.services.workspace.requireWorkspaceRoot();
      return ndjson(ctx.services.webChat.turn({ ...body, caller: callerKey(ctx.caller), cwd, signal: ctx.signal }));
    },
  }),
];
