// What the gateway's middleware learns about a request, in the order it learns it, and the
// one context every pipeline stage works on: a Koa context on the Koa path, an Exchange
// (exchange.ts) on the fast path. The stages use only what is declared here.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ParsedUrlQuery } from 'node:querystring';
import type { RouteEntry } from '../../shared/operations.js';
import type { Caller } from '../auth/caller.js';
import type { ApprovalNote } from '../telemetry/activity.js';

export interface GatewayState {
  requestId: string;
  startedAt: number;
  /** The route table entry of the matched route (undefined until a route matches). */
  entry?: RouteEntry;
  caller?: Caller;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
  /** A static /ui/ file: logged, but neither an operation in telemetry nor an Activity entry. */
  staticFile?: boolean;
  /** Set when the policy asked a person: what was decided and by whom. */
  approval?: ApprovalNote;
}

/**
 * One request's state. The abort signal is made only for the requests that ask for it: a
 * getter on the prototype, not a property defined per request. The fast path's Exchange is
 * one itself (it extends this class): one object per request, not two.
 */
export class RequestState implements GatewayState {
  /** Set by the request scope, first thing. */
  requestId = '';
  readonly startedAt = performance.now();
  entry?: GatewayState['entry'];
  caller?: GatewayState['caller'];
  staticFile?: boolean;
  approval?: GatewayState['approval'];
  private controller: AbortController | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {}

  /** Fires when the client goes away. */
  get signal(): AbortSignal {
    return (this.controller ??= abortWhenClientGoes(this.req, this.res)).signal;
  }
}

function abortWhenClientGoes(req: IncomingMessage, res: ServerResponse): AbortController {
  const controller = new AbortController();
  if (req.socket.destroyed && !res.writableFinished) controller.abort();
  else res.once('close', () => res.writableFinished || controller.abort());
  return controller;
}

/**
 * The part of a Koa context the pipeline stages use, with Koa's meaning: `get` reads a
 * request header ('' when absent), `set` a response header, `status`/`body`/`type` the reply.
 */
export interface GatewayContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  state: GatewayState;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly query: ParsedUrlQuery;
  readonly request: { readonly type: string };
  params?: Record<string, string>;
  status: number;
  body: unknown;
  type: string;
  get(field: string): string;
  set(field: string, value: string): void;
  vary(field: string): void;
}

/** A pipeline stage: Koa's middleware shape over the GatewayContext (a Koa context satisfies it). */
export type Stage = (ctx: GatewayContext, next: () => Promise<void> | void) => Promise<void> | void;
