// Request and response schemas of the chat families: terminal, ticket and run-viewer
// chats. A POST answers NDJSON, one NormalizedEvent (shared/events.ts) a line.
import { z } from 'zod';

/** The user's message; a leading `@codex ` (or `@claude `) picks the agent of the session. */
const Message = z.string().min(1).max(100_000);
const UserPath = z.string().min(1).max(4096);
const TicketId = z.string().min(1).max(200);
const RunDir = UserPath.describe('A directory returned by POST /run-viewer-extract');
export const ChatProviderId = z.enum(['claude', 'codex']);

/** A piece of an assistant turn in the history: text, or a tool call and its result, in order. */
export const ChatMessagePart = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() }),
  z.object({ type: z.literal('tool_result'), toolUseId: z.string(), content: z.string(), isError: z.boolean() }),
]);

/** `provider` picks the agent (claude unless given); the terminal also takes a leading `@codex `. */
export const TerminalChatBody = z.object({ message: Message, provider: ChatProviderId.optional() });

export const TicketChatBody = z.object({
  ticketId: TicketId,
  message: Message,
  /** What the agent is told about the ticket before the first message (text, or the ticket as JSON). */
  ticketContext: z.union([z.string().max(200_000), z.record(z.string(), z.unknown())]),
  repoPath: UserPath.optional(),
  provider: ChatProviderId.optional(),
});

export const RunViewerChatBody = z.object({ message: Message, runDir: RunDir.optional(), provider: ChatProviderId.optional() });

export const TicketChatQuery = z.object({ ticketId: TicketId.optional() });
export const RunViewerChatQuery = z.object({ runDir: RunDir.optional() });

/** DELETE takes its fields in the body or the query string; without `provider` every agent's session ends. */
export const TerminalChatDelete = z.object({ provider: ChatProviderId.optional() });
export const TicketChatDelete = z.object({ ticketId: TicketId.optional(), provider: ChatProviderId.optional() });
export const RunViewerChatDelete = z.object({ runDir: RunDir.optional(), provider: ChatProviderId.optional() });

export const ChatMessage = z.object({
  id: z.number().int(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  status: z.enum(['complete', 'running', 'killed', 'interrupted', 'failed']),
  createdAt: z.string(),
  clientId: z.string().optional(),
  sender: z.string().optional(),
  responded: z.boolean().optional(),
  /** A turn that used tools: its text and tool calls in order (`content` is the text, split around them). */
  parts: z.array(ChatMessagePart).optional(),
});

export const ChatSession = z.object({
  id: z.string(),
  kind: z.enum(['terminal', 'ticket', 'run_viewer', 'symphony', 'comment']),
  /** '' (terminal), the ticket id, the run directory, or the comment id. */
  scope: z.string(),
  provider: z.string(),
  cwd: z.string(),
  cliSessionId: z.string().nullable(),
  state: z.enum(['idle', 'running', 'killed', 'interrupted', 'failed']),
  details: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  messages: z.array(ChatMessage),
});

export const ChatSessionsResponse = z.object({ sessions: z.array(ChatSession) });
export const ChatDeleteResponse = z.object({ ended: z.number().int() });

export type TicketChatBody = z.infer<typeof TicketChatBody>;
export type ChatSessionsResponse = z.infer<typeof ChatSessionsResponse>;
