// POST /chat, the web client's chat panel (spec §7), with its field names. The reply is NDJSON
// (one event a line, no SSE framing), ending in `result` then `done`. `apiBaseUrl` and
// `expectedMcpUrl` are accepted and ignored: the turn is recorded only at the configured API origin.
import { z } from 'zod';
import { ChatProviderId } from './chats.js';

export const GatewayChatBody = z.object({
  /** The cloud's conversation key; one conversation per chatKey and caller. */
  chatKey: z.string().min(1).max(512).refine((key) => ![...key].some((ch) => ch.charCodeAt(0) < 0x20), 'no control characters'),
  userMessage: z.object({
    id: z.string().min(1).max(200),
    role: z.literal('user'),
    content: z.string().min(1).max(100_000),
    timestamp: z.string().min(1).max(64).refine((value) => !Number.isNaN(Date.parse(value)), 'an ISO 8601 time'),
  }),
  provider: ChatProviderId,
  model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:[\]-]{0,99}$/, 'a model name').optional(),
  context: z.string().max(200_000).optional(),
  /** The repository or worktree to chat in (path-guarded); else the workspace root. */
  cwd: z.string().min(1).max(4096).optional(),
  expectedMcpUrl: z.string().max(2048).optional(),
  /** Never contacted (the original fetched it: an SSRF); the configured API origin is used. */
  apiBaseUrl: z.string().max(2048).optional(),
  /** The client's cloud token for recording the turn; never logged, never stored. */
  apiAuthToken: z.string().min(1).max(8192).optional(),
});
export type GatewayChatRequest = z.infer<typeof GatewayChatBody>;
