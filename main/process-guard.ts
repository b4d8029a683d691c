// The process-level guard of a long-running gateway: a promise that rejects with nobody
// listening is a bug to log, never a reason to end the gateway (and orphan its children).
// The request it belongs to, when there is one, comes from the async context opened
// around the request's handler (pipeline.ts).
//
// On Node 20 an AsyncLocalStorage that has ever run installs a promise hook for the whole
// process: every promise then costs a JS call and a property (~2.8 KB and ~15 us per
// gateway request, measured in bench/gateway.ts). So the context is open only while some
// scoped work is in flight, plus LINGER_MS after the last one ends (work a request left
// behind is still named within that window; later, its rejection is logged without an id),
// and the quick probes (pipeline.ts) never open it.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

/** Process-wide on purpose: rejections are process-wide, and each request carries its own id. */
const requestContext = new AsyncLocalStorage<string>();
const LINGER_MS = 60_000;
let inFlight = 0;
let idle: NodeJS.Timeout | undefined;

/** Runs `work` (one request) so that anything it leaves behind is logged with its request id. */
export function withRequestId<T>(requestId: string, work: () => T): T {
  inFlight++;
  if (idle) idle = void clearTimeout(idle);
  let result: T;
  try {
    result = requestContext.run(requestId, work);
  } catch (error) {
    release();
    throw error;
  }
  if (result instanceof Promise) result.then(release, release);
  else release();
  return result;
}

function release(): void {
  if (--inFlight > 0) return;
  idle = setTimeout(() => {
    idle = undefined;
    if (inFlight === 0) requestContext.disable(); // the promise hook goes until the next scoped request
  }, LINGER_MS);
  idle.unref();
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
