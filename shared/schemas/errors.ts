// The one error envelope every error reply carries, the flat shape the cloud web app reads:
// `error` is always a human sentence that says what to do, `code` a snake_case reason.
// `code` is absent only on an unknown route's 404/501, so the web client can tell "this
// gateway lacks the route" (it shows `unsupported_desktop_version`) from a real 404.
import { z } from 'zod';

export const ErrorReply = z.object({
  error: z.string(),
  code: z.string().regex(/^[a-z][a-z0-9_]*$/).optional(),
  /** Only where a web client reader switches on it (pr/comments: `forbidden_mismatch`, `auth`, ...). */
  reason: z.string().optional(),
  /** On 400 validation errors: `{in, issues: [{field, message}]}`. */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorReply = z.infer<typeof ErrorReply>;

/** The reply body for an error; `details` is always an object (anything else is wrapped as `{value}`). */
export function errorReply(message: string, code?: string, details?: unknown, reason?: string): ErrorReply {
  const reply: ErrorReply = { error: message };
  if (code !== undefined) reply.code = code;
  if (reason !== undefined) reply.reason = reason;
  if (details === undefined || details === null) return reply;
  reply.details = typeof details === 'object' && !Array.isArray(details) ? (details as Record<string, unknown>) : { value: details };
  return reply;
}
