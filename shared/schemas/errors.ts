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

export { errorReply } from '../error-reply.js';
