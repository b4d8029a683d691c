// Who is calling: decided once per request by the auth middleware, from the credential.
// `relay`: a cloud command replayed by our own relay client (the gateway token plus the
// per-process relay secret only that client holds), so the cloud is never mistaken for a
// local tool.
export type CallerKind = 'renderer' | 'token' | 'origin' | 'relay';

export interface Caller {
  kind: CallerKind;
  /** The Origin bound to the session (renderer and paired origins); null for the token and the relay. */
  origin: string | null;
  /** Session id (not the token) for session callers. */
  sessionId: string | null;
  /** X-Desktop-Source: what the caller claims to be; shown to the user, never trusted. */
  claimedSource: string | null;
}

/** Callers from off this machine (a paired web page, the cloud through the relay): they are asked where a local caller is not. */
export function isRemoteCaller(caller: Pick<Caller, 'kind'>): boolean {
  return caller.kind === 'origin' || caller.kind === 'relay';
}

/** The same for a callerKey: a paired origin's (`origin:<origin>`) or the relay's. */
export function isRemoteKey(key: string): boolean {
  return key.startsWith('origin:') || key === 'relay';
}

/** Whose data a request may see: the renderer, the gateway token, the cloud relay, or one paired origin. */
export function callerKey(caller: Pick<Caller, 'kind' | 'origin'>): string {
  return caller.kind === 'origin' ? `origin:${caller.origin ?? ''}` : caller.kind;
}
