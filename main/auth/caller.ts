// Who is calling: decided once per request by the auth middleware, from the credential.
export type CallerKind = 'renderer' | 'token' | 'origin';

export interface Caller {
  kind: CallerKind;
  /** The Origin bound to the session (renderer and paired origins); null for the token. */
  origin: string | null;
  /** Session id (not the token) for session callers. */
  sessionId: string | null;
  /** X-Desktop-Source: what the caller claims to be; shown to the user, never trusted. */
  claimedSource: string | null;
}

/** Whose data a request may see: the renderer, the gateway token, or one paired origin. */
export function callerKey(caller: Caller): string {
  return caller.kind === 'origin' ? `origin:${caller.origin ?? ''}` : caller.kind;
}
