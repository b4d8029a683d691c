// Outermost middleware: a request id on every reply, one JSON error shape for every
// failure (no stack ever leaves), one log line and one telemetry sample per request.
import { randomBytes } from 'node:crypto';
import type { Services } from '../../services.js';
import { errorReply } from '../../../shared/error-reply.js';
import { isAppError, NoSuchRoute, WithReason } from '../../errors.js';
import { blankEntry, type ActivityEntry, type ApprovalNote } from '../../telemetry/activity.js';
import { requestLogger, type RequestRecord } from '../../telemetry/request-log.js';
import { openState, setHeader } from '../exchange.js';
import type { GatewayContext } from '../state.js';

/**
 * Request ids are unique, not secret: a random per-process prefix and a counter, which
 * costs a fraction of a UUID per request.
 */
function requestIds(): () => string {
  // The dash joined to the prefix once: one concatenation per id, not two.
  const prefix = `${randomBytes(6).toString('hex')}-`;
  let counter = 0;
  return () => prefix + (++counter).toString(36);
}

/** The Activity screen's own reads: recorded only when refused (a refused read is worth auditing). */
const ACTIVITY_READS = new Set(['/api/gateway/desktop/activity', '/api/gateway/desktop/telemetry']);

export function requestScope(services: Services) {
  const nextRequestId = requestIds();
  const logRequest = requestLogger(services.log);
  // One record for every request's log line and Activity entry, refilled each time: the log
  // line is written and the Activity ring copies it before `finish` returns.
  const record = blankEntry();
  const settle = (ctx: GatewayContext, error: unknown): void => {
    try {
      writeError(ctx, error, services);
    } finally {
      finish(ctx, record, services, logRequest);
    }
  };
  const close = (ctx: GatewayContext): void => {
    if (ctx.status === 404 && ctx.body === undefined) return settle(ctx, notFound());
    finish(ctx, record, services, logRequest);
  };
  // Not async: a request whose chain waits for nothing (GET /version) makes no promise here.
  // `next` is called with the context, so the fast path passes one function made at start
  // (server.ts) rather than a closure per request; Koa's next ignores it.
  return function scope(ctx: GatewayContext, next: (ctx: GatewayContext) => Promise<void> | void): Promise<void> | void {
    const state = openState(ctx);
    state.requestId = nextRequestId();
    setHeader(ctx, 'X-Request-Id', state.requestId);
    let pending: Promise<void> | void;
    try {
      // What a route's work leaves behind is logged with this id: the pipeline opens that context.
      pending = next(ctx);
    } catch (error) {
      return settle(ctx, error);
    }
    if (!pending) return close(ctx);
    return whenSettled(ctx, pending, close, settle);
  };
}

/** Its own function: a closure over `ctx` in `scope` would cost every request its context (pipeline.ts `run`). */
function whenSettled(
  ctx: GatewayContext,
  pending: Promise<void>,
  close: (ctx: GatewayContext) => void,
  settle: (ctx: GatewayContext, error: unknown) => void,
): Promise<void> {
  return pending.then(
    () => close(ctx),
    (error: unknown) => settle(ctx, error),
  );
}

function notFound() {
  return new NoSuchRoute(404, 'This gateway has no such route; update Symphony Desktop if the web app needs it.');
}

function writeError(ctx: GatewayContext, error: unknown, services: Services): void {
  const { status, code, message, details, headers } = describe(error, ctx.state.requestId, services.logFile);
  if (status >= 500) {
    services.log.error({ requestId: ctx.state.requestId, err: error }, 'request failed');
  }
  ctx.status = status;
  for (const [name, value] of Object.entries(headers ?? {})) ctx.set(name, value);
  ctx.body = errorReply(message, error instanceof NoSuchRoute ? undefined : code, details, error instanceof WithReason ? error.reason : undefined);
}

interface ErrorShape {
  status: number;
  code: string;
  message: string;
  details?: unknown;
  headers?: Record<string, string>;
}

function describe(error: unknown, requestId: string, logFile: string | null): ErrorShape {
  if (isAppError(error)) return error;
  const http = error as { status?: number; expose?: boolean; code?: string; message?: string };
  if (typeof http.status === 'number' && http.status >= 400 && http.status < 500 && http.expose) {
    return { status: http.status, code: typeof http.code === 'string' ? http.code : 'bad_request', message: String(http.message) };
  }
  const where = logFile ? `its log (${logFile}, or \`symphony-gateway logs\`)` : 'its log';
  return { status: 500, code: 'internal_error', message: `The gateway hit an internal error; see ${where} for request ${requestId}.`, details: { requestId, ...(logFile && { logFile }) } };
}

function finish(ctx: GatewayContext, record: ActivityEntry, services: Services, logRequest: (record: RequestRecord) => void): void {
  const durationMs = performance.now() - ctx.state.startedAt;
  const { entry, caller, staticFile } = ctx.state;
  const operation = entry?.kind ?? (staticFile ? 'static_ui' : 'unmatched');
  record.requestId = ctx.state.requestId;
  record.operation = operation;
  record.callerKind = caller?.kind ?? null;
  record.origin = ctx.get('Origin') || null;
  record.method = ctx.method;
  record.route = entry?.path ?? null;
  record.status = ctx.status;
  record.durationMs = Math.round(durationMs * 100) / 100;
  record.seq = 0;
  record.time = Date.now();
  record.path = ctx.path.length > 300 ? `${ctx.path.slice(0, 300)}…` : ctx.path;
  record.callerOrigin = caller?.origin ?? null;
  record.claimedSource = caller?.claimedSource ?? null;
  record.approval = ctx.state.approval ? settledApproval(ctx.state.approval, ctx.status) : null;
  logRequest(record);
  // Static renderer files are not operations: no telemetry series, no audit entry.
  if (staticFile) return;
  services.telemetry.record(operation, ctx.status, durationMs);
  // The Activity screen's own polling would bury what it shows.
  if (entry && ACTIVITY_READS.has(entry.path) && ctx.status < 400) return;
  record.seq = services.activity.nextSeq();
  services.activity.record(record);
}

/** An ask that ended without a decision: nobody answered (408) or the client left. */
function settledApproval(note: ApprovalNote, status: number): ApprovalNote {
  if (note.decision !== 'pending') return note;
  return { decision: status === 408 ? 'timeout' : 'withdrawn', decidedBy: null };
}
