// How a route family declares its routes. A route file only parses (schemas),
// calls its domain module and shapes the reply; auth, Host/Origin, policy,
// telemetry and error mapping run before and around it (see server.ts).
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Access, HttpMethod } from '../../shared/operations.js';
import type { Caller } from '../auth/caller.js';
import type { Services } from '../services.js';

export type { Caller, CallerKind } from '../auth/caller.js';

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
}

export interface RequestContext {
  services: Services;
  caller: Caller;
  requestId: string;
  /** Aborted when the client goes away: stop the work it asked for. */
  signal: AbortSignal;
  /** The raw request, for routes that stream a multipart body. */
  req: IncomingMessage;
  log: Logger;
}

/** What the approval policy needs to know about one request beyond its route. */
export interface Classification {
  access?: Access;
  /** A sub-action with its own default policy (e.g. `push` on POST /git). */
  action?: string;
  /** The repository the request touches, for "allow always" rules. */
  repoPath?: string;
  /**
   * The conversation an agent-start route continues or begins: `scope` is what an "allow
   * always" covers (e.g. `ticket:T-1`), `started` that its first turn was allowed already
   * (a paired origin is asked on the first turn only).
   */
  conversation?: { scope: string; started: boolean };
}

/** What a classifier may consult beyond the input: who calls, and the services (e.g. whether a conversation exists). */
export interface ClassifyContext {
  services: Services;
  caller: Caller;
}

type AnySchema = z.ZodType;
type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface RouteDef<BS = AnySchema | undefined, QS = AnySchema | undefined, PS = AnySchema | undefined> {
  method: HttpMethod;
  /** Full path as in shared/operations.ts ROUTE_TABLE. */
  path: string;
  summary: string;
  body?: BS;
  query?: QS;
  params?: PS;
  /** Response schema, for the OpenAPI document. */
  response?: AnySchema;
  /** Response is NDJSON (normalized events), not one JSON document. */
  streams?: boolean;
  /** A table route that is not built yet: it answers 501 without asking anyone. */
  notBuilt?: boolean;
  classify?: (input: RouteInput<Infer<BS>, Infer<QS>, Infer<PS>>, ctx: ClassifyContext) => Classification;
  handler: (input: RouteInput<Infer<BS>, Infer<QS>, Infer<PS>>, ctx: RequestContext) => unknown;
}

// `any` here keeps a heterogeneous list of routes assignable; each defineRoute call is fully typed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteDef<any, any, any>;

export function defineRoute<
  BS extends AnySchema | undefined = undefined,
  QS extends AnySchema | undefined = undefined,
  PS extends AnySchema | undefined = undefined,
>(def: RouteDef<BS, QS, PS>): RouteDef<BS, QS, PS> {
  return def;
}
