// The process-level guard of a long-running gateway: a promise that rejects with nobody
// listening is a bug to log, never a reason to end the gateway (and orphan its children).
// The request it belongs to, when there is one, comes from the async context the request
// scope opens around each request.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

/** Process-wide on purpose: rejections are process-wide, and each request carries its own id. */
const requestContext = new AsyncLocalStorage<string>();

/** Runs `work` (one request) so that anything it leaves behind is logged with its request id. */
export function withRequestId<T>(requestId: string, work: () => T): T {
  return requestContext.run(requestId, work);
}

export function currentRequestId(): string | null {
  return requestContext.getStore() ?? null;
}

/** Installs the handler once per process; returns a function that removes it (tests). */
export function guardProcess(log: Pick<Logger, 'error'>): () => void {
  const onRejection = (reason: unknown) => {
    log.error({ requestId: currentRequestId(), err: reason }, 'unhandled promise rejection (the gateway keeps running)');
  };
  process.on('unhandledRejection', onRejection);
  return () => process.off('unhandledRejection', onRejection);
}
