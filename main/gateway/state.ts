// What the gateway's middleware learns about a request, in the order it learns it.
import type { ParameterizedContext } from 'koa';
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

export type GatewayContext = ParameterizedContext<GatewayState>;
