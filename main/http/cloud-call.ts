// The one way the desktop calls the cloud's HTTP API: POST JSON (or DELETE) to a path of the CONFIGURED
// API origin (never a URL from a request body) with a bearer token, no redirects, a timeout,
// and the answer read through the cloud's `{success, data}` envelope. With a managed
// `sk_live_` key, the call carries the gateway's proof of possession (`pop`, built by
// main/relay/device-identity.ts over this request's method and pathname).

/** Builds the PoP headers for one request (empty for a token that is not a managed key). */
export type PopSigner = (method: string, pathname: string, token: string) => Promise<Record<string, string>>;

export type CloudOutcome =
  | { kind: 'ok'; status: number; data: unknown }
  /** Unreachable, 5xx or 429: try again later. */
  | { kind: 'retry'; status: number | null; error: string }
  /** 410: the cloud has finished with this resource. */
  | { kind: 'gone'; status: number; error: string }
  /** Any other refusal: trying again will not help. `payload` is the cloud's body (e.g. a 409's details). */
  | { kind: 'rejected'; status: number; error: string; payload?: unknown };

export interface CloudCall {
  /** The configured API origin; undefined when none is set. */
  origin: string | undefined;
  /** POST unless told; the PoP signs the method actually sent. */
  method?: 'POST' | 'DELETE';
  path: string;
  token: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Aborts the call early (besides the timeout). */
  signal?: AbortSignal;
  /** The PoP headers; it sends none for a token that is not a managed key. */
  pop?: PopSigner;
}

export async function callCloud(call: CloudCall): Promise<CloudOutcome> {
  if (!call.origin) return { kind: 'retry', status: null, error: 'no API origin is configured' };
  const url = new URL(call.path, call.origin);
  const method = call.method ?? 'POST';
  const pop = call.pop ? await call.pop(method, url.pathname, call.token) : {};
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${call.token}`, ...(call.body === undefined ? {} : { 'content-type': 'application/json' }), ...call.headers, ...pop },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      redirect: 'error',
      signal: AbortSignal.any([AbortSignal.timeout(call.timeoutMs), ...(call.signal ? [call.signal] : [])]),
    });
  } catch (error) {
    return { kind: 'retry', status: null, error: `the cloud is unreachable: ${(error as Error).message}` };
  }
  const text = await response.text().catch(() => '');
  let payload: unknown = undefined;
  try {
    payload = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the status decides.
  }
  const envelope = payload && typeof payload === 'object' ? (payload as { success?: unknown; data?: unknown; error?: unknown }) : {};
  const error = typeof envelope.error === 'string' ? envelope.error : `HTTP ${response.status}`;
  if (response.ok && envelope.success !== false) return { kind: 'ok', status: response.status, data: 'data' in envelope ? envelope.data : payload };
  if (response.status >= 500 || response.status === 429) return { kind: 'retry', status: response.status, error };
  if (response.status === 410) return { kind: 'gone', status: 410, error };
  return { kind: 'rejected', status: response.status, error, payload };
}
