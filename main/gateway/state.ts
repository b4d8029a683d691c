// What the gateway's middleware learns about a request, in the order it learns it.
import type { ParameterizedContext } from 'koa';
import type { RouteEntry } from '../../shared/operations.js';
import type { Caller } from '../auth/caller.js';

export interface GatewayState {
  requestId: string;
  startedAt: number;
  /** The route table entry of the matched route (undefined until a route matches). */
  entry?: RouteEntry;
  caller?: Caller;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
}

export type GatewayContext = ParameterizedContext<GatewayState>;
