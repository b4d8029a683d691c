// Every route runs through the same chain, so no route can skip a check:
// authenticate → content type → body → validate → classify → approval policy → handler.
import type { z } from 'zod';
import { isOperationId, type RouteEntry } from '../../shared/operations.js';
import { AGENT_START } from '../auth/policy.js';
import { AppError } from '../errors.js';
import { withRequestId } from '../process-guard.js';
import type { Services } from '../services.js';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Caller } from '../auth/caller.js';
import { checkContentType, hasBody, readJsonBody } from './body.js';
import { authenticate } from './middleware/authenticate.js';
import { respond } from './respond.js';
import type { AnyRoute, Classification, RequestContext, RouteInput } from './route.js';
import type { GatewayContext, Stage } from './state.js';

/**
 * The one chain a table route runs behind, whichever lookup (static map or router) finds it.
 * Credentials are checked before the route's definition is asked for, so an unauthenticated
 * request never loads a lazy family (see route-family.ts).
 */
export function routeChain(
  entry: RouteEntry,
  route: () => AnyRoute | Promise<AnyRoute>,
  services: Services,
  bodyReadTimeoutMs?: number,
): Stage {
  const auth = authenticate(services, entry.kind);
  // The probes (health, version, pairing) leave nothing behind: no async context for them (process-guard.ts).
  const scoped = entry.kind !== 'public' && entry.kind !== 'health_check';
  const runRoute = (ctx: GatewayContext, found: AnyRoute) =>
    scoped ? runScoped(ctx, found, entry, services, bodyReadTimeoutMs) : run(ctx, found, entry, services, bodyReadTimeoutMs);
  return (ctx: GatewayContext) => {
    ctx.state.entry = entry;
    auth(ctx);
    const found = route();
    return found instanceof Promise ? runWhenLoaded(ctx, found, runRoute) : runRoute(ctx, found);
  };
}

// The steps below return a promise only when they wait (a body, a person, an async handler):
// a request that waits for nothing (GET /version) makes no promise of ours. What a step runs
// once it has waited is a closure made in a function of its own (the *When*/runScoped
// helpers): V8 makes a function's closure context (~50 B) each time the function is entered,
// so a closure over `ctx` written in a step would cost every request, waiting or not.
function run(ctx: GatewayContext, route: AnyRoute, entry: RouteEntry, services: Services, bodyReadTimeoutMs?: number): Promise<void> | void {
  checkContentType(ctx, Boolean(entry.multipart));
  if ((entry.multipart && ctx.request.type === 'multipart/form-data') || !hasBody(ctx.req)) return withBody(ctx, route, entry, services, undefined);
  return withBodyRead(ctx, route, entry, services, bodyReadTimeoutMs);
}

function runWhenLoaded(ctx: GatewayContext, found: Promise<AnyRoute>, runRoute: (ctx: GatewayContext, found: AnyRoute) => Promise<void> | void): Promise<void> {
  return found.then((loaded) => runRoute(ctx, loaded));
}

/** In the request's async context (process-guard.ts): what its work leaves behind is logged with its id. */
function runScoped(ctx: GatewayContext, route: AnyRoute, entry: RouteEntry, services: Services, bodyReadTimeoutMs?: number): Promise<void> | void {
  return withRequestId(ctx.state.requestId, () => run(ctx, route, entry, services, bodyReadTimeoutMs));
}

function withBodyRead(ctx: GatewayContext, route: AnyRoute, entry: RouteEntry, services: Services, bodyReadTimeoutMs?: number): Promise<void> {
  return readJsonBody(ctx, bodyReadTimeoutMs).then((rawBody) => withBody(ctx, route, entry, services, rawBody));
}

function withBody(ctx: GatewayContext, route: AnyRoute, entry: RouteEntry, services: Services, rawBody: unknown): Promise<void> | void {
  // ctx.query parses the query string: read it only for routes that take one.
  const input: RouteInput<unknown, unknown, unknown> =
    route.params || route.query || route.body
      ? {
          params: route.params ? validate('path parameter', route.params, ctx.params ?? {}) : undefined,
          query: route.query ? validate('query', route.query, ctx.query) : undefined,
          body: validate('body', route.body, rawBody),
        }
      : NO_INPUT;
  const asked = authorize(ctx, route, entry, input, services);
  return asked ? handleWhenAllowed(asked, ctx, route, input, services) : handle(ctx, route, input, services);
}

function handleWhenAllowed(asked: Promise<void>, ctx: GatewayContext, route: AnyRoute, input: RouteInput<unknown, unknown, unknown>, services: Services): Promise<void> {
  return asked.then(() => handle(ctx, route, input, services));
}

function handle(ctx: GatewayContext, route: AnyRoute, input: RouteInput<unknown, unknown, unknown>, services: Services): Promise<void> | void {
  const result: unknown = route.handler(input, new HandlerContext(ctx, services));
  if (result instanceof Promise) return respondWhenDone(ctx, result);
  respond(ctx, result);
}

function respondWhenDone(ctx: GatewayContext, result: Promise<unknown>): Promise<void> {
  return result.then((value: unknown) => respond(ctx, value));
}

/** The caller of a public route, which authenticates nobody. */
const NO_CALLER: Caller = Object.freeze({ kind: 'token', origin: null, sessionId: null, claimedSource: null });

/**
 * What a handler gets, made per request: two fields, the rest read from the request's context
 * when asked; the signal and a child logger are made only when a handler asks for them.
 */
class HandlerContext implements RequestContext {
  constructor(
    private readonly ctx: GatewayContext,
    readonly services: Services,
  ) {}

  get caller(): Caller {
    return this.ctx.state.caller ?? NO_CALLER;
  }

  get requestId(): string {
    return this.ctx.state.requestId;
  }

  get req(): IncomingMessage {
    return this.ctx.req;
  }

  get signal(): AbortSignal {
    return this.ctx.state.signal;
  }

  // A child logger per request costs; most handlers never log.
  get log(): Logger {
    return this.services.log.child({ requestId: this.requestId });
  }
}

const UNCLASSIFIED: Classification = Object.freeze({});
type DecideRequest = Parameters<Services['policy']['decide']>[0];
/** The input of a route that takes none (GET /version): one object, not one per request. */
const NO_INPUT: RouteInput<unknown, unknown, unknown> = Object.freeze({ params: undefined, query: undefined, body: undefined });

/** Undefined when the policy allows outright; a promise when the request may wait for a person. */
function authorize(
  ctx: GatewayContext,
  route: AnyRoute,
  entry: RouteEntry,
  input: RouteInput<unknown, unknown, unknown>,
  services: Services,
): Promise<void> | undefined {
  const caller = ctx.state.caller;
  if (!caller || !isOperationId(entry.kind) || route.notBuilt) return undefined;
  const classified: Classification = route.classify?.(input, { services, caller }) ?? UNCLASSIFIED;
  // A route that starts an agent is a write whatever the agent may do (its own default asks a paired origin).
  const access = entry.agent ? ('write' as const) : (classified.access ?? entry.access);
  const action = entry.agent ? AGENT_START : (classified.action ?? null);
  const forceApproval = ctx.get('X-Desktop-Force-Approval') === '1';
  // Most requests are allowed outright by the policy's table: only one that may wait for a person needs the rest.
  if (services.policy.allowsOutright(caller.kind, entry.kind, access, action, forceApproval)) return undefined;
  const request = {
    operation: entry.kind,
    caller,
    method: entry.method,
    path: entry.path,
    access,
    action,
    repoPath: classified.repoPath ?? null,
    scope: classified.conversation?.scope ?? null,
    continuing: classified.conversation?.started ?? false,
    forceApproval,
  };
  // An ask that a rule or a started conversation turns into an allow.
  if (services.policy.decide(request) === 'allow') return undefined;
  return askPerson(ctx, request, input, services);
}

/** A person decides (or the policy denies): its own function, for the closures over `ctx` (see `run`). */
function askPerson(ctx: GatewayContext, request: DecideRequest, input: RouteInput<unknown, unknown, unknown>, services: Services): Promise<void> {
  ctx.state.approval = { decision: 'pending', decidedBy: null };
  return services.policy.authorize({
    ...request,
    onOutcome: (outcome) => (ctx.state.approval = { decision: outcome.decision, decidedBy: outcome.decidedBy ?? null }),
    args: { params: input.params, query: input.query, body: input.body },
    claimedReason: ctx.get('X-Desktop-Approval-Reason').slice(0, 500) || null,
    get signal() {
      return ctx.state.signal;
    },
  });
}

function validate(where: string, schema: z.ZodType | undefined, value: unknown): unknown {
  // A route without a schema for this part ignores it: nothing unvalidated reaches a handler.
  if (!schema) return undefined;
  const parsed = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || where,
    message: issue.message,
  }));
  const first = issues[0];
  throw new AppError(400, 'invalid_input', `Invalid ${where}: ${first.field}: ${first.message}`, { in: where, issues });
}
