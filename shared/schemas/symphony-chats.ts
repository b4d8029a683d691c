// Ticket conversations and files (the original's symphony/sessions, chat, comment-chat,
// commit-message, chat-history, attachments and upload routes), with its field names.
// Chat POSTs answer NDJSON, one NormalizedEvent (shared/events.ts) a line.
import { z } from 'zod';
import { ChatProviderId } from './chats.js';

const UserPath = z.string().min(1).max(4096);
const TicketId = z.string().min(1).max(100);
const Message = z.string().min(1).max(100_000);
const ShortText = z.string().max(250);
/** A list index in the query string: digits only (so '' or '1.5' is a 400, not 0). */
const Index = z.string().regex(/^\d{1,6}$/, 'must be a whole number').transform(Number);

export const TicketParams = z.object({ ticketId: TicketId });

// symphony/sessions
export const TicketSession = z.object({
  ticketId: TicketId,
  repoPath: UserPath,
  worktreePath: UserPath,
  pid: z.number().int().positive().optional(),
  contextRepoPaths: z.array(UserPath).max(20).optional(),
  baseBranch: ShortText.optional(),
  parentTicketId: TicketId.optional(),
  loopId: ShortText.optional(),
  artifactId: ShortText.optional(),
  /** Sent by the web app's ticket list; the original dropped it, we keep it. */
  documentId: ShortText.optional(),
  startedAt: z.string().max(64),
  lastAccessedAt: z.string().max(64),
});
export const TicketSessionBody = TicketSession.extend({ startedAt: z.string().max(64).optional(), lastAccessedAt: z.string().max(64).optional() });
export const TicketSessionsResponse = z.object({ sessions: z.array(TicketSession) });
export const TicketSessionDeleteQuery = z.object({ ticketId: TicketId });
export const UnreadCountResponse = z.object({ count: z.number().int() });
export const Success = z.object({ success: z.literal(true) });

// symphony/chat/:ticketId
export const SymphonyChatBody = z.object({
  message: Message,
  /** The repository; may come as `?repo=` instead. */
  repoPath: UserPath.optional(),
  /** More repositories the agent may read (never write), each checked like repoPath. */
  contextRepoPaths: z.array(UserPath).max(20).optional(),
  provider: ChatProviderId.optional(),
});
export const RepoQuery = z.object({ repo: UserPath });
export const OptionalRepoQuery = z.object({ repo: UserPath.optional() });

// symphony/comment-chat/:commentId
export const CommentParams = z.object({
  commentId: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'must be 1-200 letters, digits, _ . : or -'),
});
export const CommentChatQuery = z.object({ ticketId: TicketId, repo: UserPath });
export const CommentContext = z.object({
  author: z.string().max(200),
  body: z.string().max(100_000),
  path: z.string().max(4096).optional(),
  line: z.number().int().nonnegative().nullable().optional(),
  url: z.string().max(2048).optional(),
  replies: z
    .array(z.union([z.string().max(100_000), z.object({ author: z.string().max(200).optional(), body: z.string().max(100_000) })]))
    .max(200)
    .optional(),
});
export const CommentChatBody = z.object({ message: Message, commentContext: CommentContext.optional(), provider: ChatProviderId.optional() });
export const CommentPatchBody = z.object({
  messageId: z.union([z.string().max(200), z.number().int()]).optional(),
  responded: z.boolean().optional(),
  /** What the old web client sends for `responded`. */
  markResponded: z.boolean().optional(),
});
export const CommentDeleteQuery = CommentChatQuery.extend({ index: Index.optional() });

export const HistoryMessage = z.object({
  id: z.string(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  timestamp: z.string(),
  sender: z.string().optional(),
  status: z.enum(['complete', 'running', 'killed', 'interrupted', 'failed']),
  responded: z.boolean().optional(),
});
export const CommentChatResponse = z.object({
  messages: z.array(HistoryMessage),
  commentId: z.string(),
  commentContext: CommentContext.optional(),
  sessionId: z.string().optional(),
});

// symphony/chat-history/:ticketId
export const ChatHistoryQuery = z.object({ repo: UserPath, provider: ChatProviderId.optional() });
export const ChatHistoryBody = z.union([
  z.object({ sessionId: z.string().min(1).max(200) }).strict(),
  z.object({
    message: z.object({
      id: z.string().min(1).max(200),
      role: z.enum(['user', 'assistant']),
      content: z.string().max(1_000_000),
      timestamp: z.union([z.string().max(64), z.number()]),
      sender: z.string().max(200).optional(),
    }),
  }).strict(),
]);
export const ChatHistoryDeleteQuery = ChatHistoryQuery.extend({ index: Index.optional() });
export const ChatHistory = z.object({
  messages: z.array(HistoryMessage),
  ticketId: z.string(),
  repoPath: z.string(),
  sessionId: z.string().optional(),
});
export const ChatHistoryResponse = ChatHistory.extend({ codexSessionExists: z.boolean() });
export const ChatHistoryPostResponse = z.union([
  z.object({ success: z.literal(true), sessionId: z.string() }),
  z.object({ success: z.literal(true), history: ChatHistory }),
]);

// symphony/commit-message/:ticketId
export const CommitMessageQuery = z.object({ repo: UserPath, provider: ChatProviderId.optional() });
export const CommitMessageResponse = z.object({
  title: z.string(),
  description: z.string(),
  /** The agent that wrote it, or `default` when it failed or took longer than 30 s. */
  source: z.enum(['claude', 'codex', 'default']),
  /** Changed files that match secret patterns (.env*, keys, credentials): never shown to the model. */
  excludedFiles: z.array(z.string()),
});

// symphony/attachments/:ticketId/*attachmentPath and symphony/upload/:ticketId
export const AttachmentParams = z.object({ ticketId: TicketId, attachmentPath: z.string().min(1).max(1024) });
export const UploadedFile = z.object({
  originalName: z.string(),
  savedName: z.string(),
  path: z.string(),
  apiUrl: z.string(),
  size: z.number().int(),
});
export const UploadResponse = z.object({ files: z.array(UploadedFile) });

export type CommentContext = z.infer<typeof CommentContext>;
export type HistoryMessage = z.infer<typeof HistoryMessage>;
export type UploadedFile = z.infer<typeof UploadedFile>;
