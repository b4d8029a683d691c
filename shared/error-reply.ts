// The error envelope's builder without zod (the request scope uses it from the first
// request on, before any schema module loads); its schema is ErrorReply in schemas/errors.ts.
import type { ErrorReply } from './schemas/errors.js';

/** The reply body for an error; `details` is always an object (anything else is wrapped as `{value}`). */
export function errorReply(message: string, code?: string, details?: unknown, reason?: string): ErrorReply {
  const reply: ErrorReply = { error: message };
  if (code !== undefined) reply.code = code;
  if (reason !== undefined) reply.reason = reason;
  if (details === undefined || details === null) return reply;
  reply.details = typeof details === 'object' && !Array.isArray(details) ? (details as Record<string, unknown>) : { value: details };
  return reply;
}
