// The one request-body size limiter, for JSON and multipart bodies alike. Past the cap a
// body is still read and dropped for a while, so the client is there to read its 413;
// a body larger than that (or one that says so up front) gets the connection closed.
import type { IncomingMessage } from 'node:http';

/** How much past its cap a body is drained before the connection is closed instead. */
export const DRAIN_LIMIT = 32 * 1024 * 1024;

export interface BodyLimitOptions {
  /** The largest body the route takes. */
  cap: number;
  /** Called once when the body passes cap + DRAIN_LIMIT (declared or counted): close the connection. */
  onTooLargeToDrain: () => void;
}

/** True when the declared Content-Length is beyond what is worth draining: answer 413 and close at once. */
export function declaredTooLarge(req: IncomingMessage, cap: number): boolean {
  return Number(req.headers['content-length'] ?? 0) > cap + DRAIN_LIMIT;
}

/**
 * Counts the body as it arrives (alongside whoever parses it) and calls onTooLargeToDrain
 * once past cap + DRAIN_LIMIT. Returns a function that stops counting.
 */
export function watchBodySize(req: IncomingMessage, options: BodyLimitOptions): () => void {
  let bytes = 0;
  let fired = false;
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (!fired && bytes > options.cap + DRAIN_LIMIT) {
      fired = true;
      options.onTooLargeToDrain();
    }
  };
  req.on('data', onData);
  return () => req.off('data', onData);
}
