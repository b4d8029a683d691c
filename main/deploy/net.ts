// The network side of deploy, loopback only: is a port free or held, a free port from the
// range, and a health probe that never leaves the machine and never follows a redirect.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer } from 'node:net';

const LOOPBACK_HOSTS = ['127.0.0.1', '::1'];

/** True when nothing listens on the port on either loopback address (we could bind it). */
export async function isPortFree(port: number): Promise<boolean> {
  for (const host of LOOPBACK_HOSTS) {
    if (!(await canListen(port, host))) return false;
  }
  return !(await isPortHeld(port, 300));
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT'));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** True when something accepts a TCP connection on the port (127.0.0.1, then ::1) within the timeout. */
export async function isPortHeld(port: number, timeoutMs = 1_000): Promise<boolean> {
  for (const host of LOOPBACK_HOSTS) {
    if (await connects(port, host, timeoutMs)) return true;
  }
  return false;
}

function connects(port: number, host: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (held: boolean) => {
      socket.destroy();
      resolve(held);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface PortRange {
  from: number;
  to: number;
}

/** The first port of the range that is free and not taken by one of ours; null when none is. */
export async function allocatePort(range: PortRange, taken: ReadonlySet<number>): Promise<number | null> {
  for (let port = range.from; port <= range.to; port++) {
    if (!taken.has(port) && (await isPortFree(port))) return port;
  }
  return null;
}

/** The parsed URL when it is http(s) to a loopback host, else null. */
export function loopbackUrl(raw: string): URL | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  return loopback ? url : null;
}

export interface ProbeResult {
  /** The HTTP status of the reply (a redirect is reported, not followed), null when none came. */
  statusCode: number | null;
  error?: string;
}

/** One HEAD request; the caller has already checked the URL is loopback. `localhost` tries 127.0.0.1, then ::1. */
export async function probe(url: URL, timeoutMs: number): Promise<ProbeResult> {
  if (url.hostname !== 'localhost') return probeAt(url, url.hostname.replace(/^\[|\]$/g, ''), timeoutMs);
  const first = await probeAt(url, '127.0.0.1', timeoutMs);
  return first.statusCode === null ? probeAt(url, '::1', timeoutMs) : first;
}

function probeAt(url: URL, address: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      {
        protocol: url.protocol,
        host: address,
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: url.pathname + url.search,
        method: 'HEAD',
        timeout: timeoutMs,
        // A local dev server's certificate is self-signed; nothing leaves the machine.
        ...(url.protocol === 'https:' ? { rejectUnauthorized: false, servername: url.hostname } : {}),
        headers: { host: url.host, 'user-agent': 'symphony-desktop-health' },
      },
      (res: IncomingMessage) => {
        res.resume();
        resolve({ statusCode: res.statusCode ?? null });
      },
    );
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (error) => resolve({ statusCode: null, error: error.message }));
    req.end();
  });
}
