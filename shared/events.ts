// The normalized event stream every provider emits and every chat route answers
// as NDJSON, one event a line. Names and fields are the ones the cloud web app
// already reads; a provider maps its CLI's own JSONL onto these and nothing else.
import { z } from 'zod';

export const StatusEvent = z.object({
  type: z.literal('status'),
  /** `started`, `resumed`, `new_session` (resume failed, started afresh), `killed`, ... */
  status: z.string(),
  pid: z.number().int().nullable(),
  /** Permission or sandbox mode the turn runs under. */
  mode: z.string(),
  message: z.string().optional(),
  /** `retrying`: which retry this is, of how many (null: unknown), the error that caused it, and the wait before it. */
  attempt: z.number().int().optional(),
  of: z.number().int().nullable().optional(),
  error: z.string().optional(),
  retryInMs: z.number().optional(),
  /** `queued`: the turn's place in its caller's queue for an agent slot (1: next). */
  position: z.number().int().optional(),
});

export const SessionIdEvent = z.object({ type: z.literal('sessionId'), sessionId: z.string() });

/** A delta: concatenating every `text` of a turn gives the assistant's reply. */
export const TextEvent = z.object({ type: z.literal('text'), content: z.string() });

export const ThinkingEvent = z.object({ type: z.literal('thinking'), content: z.string() });

export const ToolUseEvent = z.object({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
});

export const ToolResultEvent = z.object({
  type: z.literal('tool_result'),
  toolUseId: z.string(),
  content: z.string(),
  isError: z.boolean(),
});

export const UsageTotals = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cachedInputTokens: z.number(),
});

/** Tokens of this turn; `totals` are the CLI session's running totals where the CLI reports those (codex). */
export const UsageEvent = z.object({
  type: z.literal('usage'),
  inputTokens: z.number(),
  outputTokens: z.number(),
  cachedInputTokens: z.number().optional(),
  costUsd: z.number().optional(),
  totals: UsageTotals.optional(),
});

export const ApprovalRequestEvent = z.object({
  type: z.literal('approval_request'),
  requestId: z.string(),
  toolName: z.string(),
  input: z.unknown(),
  /** What the approver decided, once known. */
  decision: z.enum(['allow', 'deny']).optional(),
});

export const ErrorEvent = z.object({ type: z.literal('error'), message: z.string() });

export const ResultEvent = z.object({
  type: z.literal('result'),
  success: z.boolean(),
  /** Why the turn did not succeed (`killed`, `crashed`, `api_error`, ...). */
  reason: z.string().optional(),
});

/** Always the last event of a turn. */
export const DoneEvent = z.object({ type: z.literal('done') });

export const NormalizedEvent = z.discriminatedUnion('type', [
  StatusEvent,
  SessionIdEvent,
  TextEvent,
  ThinkingEvent,
  ToolUseEvent,
  ToolResultEvent,
  UsageEvent,
  ApprovalRequestEvent,
  ErrorEvent,
  ResultEvent,
  DoneEvent,
]);

export type NormalizedEvent = z.infer<typeof NormalizedEvent>;
export type NormalizedEventType = NormalizedEvent['type'];
export type UsageTotals = z.infer<typeof UsageTotals>;
export type EventOf<T extends NormalizedEventType> = Extract<NormalizedEvent, { type: T }>;
