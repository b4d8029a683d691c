// How the Electron window's custom scheme maps to the built renderer on disk, and the
// Content-Security-Policy it is served with. Plain Node so it is tested without Electron;
// main/app/window.ts only wires these into protocol.handle and the session.
import { realpath } from 'node:fs/promises';
import path from 'node:path';

export const RENDERER_SCHEME = 'app';
export const RENDERER_HOST = 'symphony';
/** The renderer's exact origin: the gateway trusts it as the `renderer` caller. */
export const RENDERER_ORIGIN = `${RENDERER_SCHEME}://${RENDERER_HOST}`;
/** Vite builds the renderer with base '/ui/' (the path the headless gateway serves it at);
 *  the window uses the same layout so asset URLs resolve unchanged. */
export const RENDERER_BASE_PATH = '/ui/';
export const RENDERER_ENTRY_URL = `${RENDERER_ORIGIN}${RENDERER_BASE_PATH}`;

/**
 * Whether a URL belongs to the renderer (navigation and IPC sender checks). Compares scheme
 * and host, since WHATWG URL reports the origin of a non-special scheme as "null".
 */
export function isRendererUrl(candidate: string): boolean {
  try {
    const url = new URL(candidate);
    return url.protocol === `${RENDERER_SCHEME}:` && url.host === RENDERER_HOST && !url.username && !url.password;
  } catch {
    return false;
  }
}

// Chromium's Local Network Access gates a page calling loopback; the gateway is loopback.
// 'local-network-access' is the older name, 'loopback-network' the newer split one.
const LOOPBACK_PERMISSIONS = new Set(['local-network-access', 'loopback-network']);

/**
 * The renderer's only permission: reaching the gateway on loopback. Everything else
 * (camera, notifications, LAN, clipboard, ...) and every other requester is refused.
 */
export function isPermissionGranted(permission: string, requestingUrl: string | undefined): boolean {
  return LOOPBACK_PERMISSIONS.has(permission) && requestingUrl !== undefined && isRendererUrl(requestingUrl);
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export interface RendererFile {
  file: string;
  contentType: string;
}

/**
 * The file under `root` that `requestUrl` (below RENDERER_BASE_PATH) names, or undefined
 * when the URL is not the renderer's or tries to leave `root` (`..`, encoded separators,
 * NUL, symlinks). Paths without an extension are client-side routes and get index.html.
 */
export async function resolveRendererFile(root: string, requestUrl: string): Promise<RendererFile | undefined> {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== `${RENDERER_SCHEME}:` || url.host !== RENDERER_HOST) return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\0') || pathname.includes('\\') || pathname.split('/').includes('..')) return undefined;
  if (`${pathname}/` === RENDERER_BASE_PATH) pathname = RENDERER_BASE_PATH;
  if (!pathname.startsWith(RENDERER_BASE_PATH)) return undefined;
  const inside = pathname.slice(RENDERER_BASE_PATH.length);
  const relative = path.extname(inside) === '' ? 'index.html' : inside;
  const realRoot = await realpath(root).catch(() => undefined);
  if (!realRoot) return undefined;
  const file = await realpath(path.join(realRoot, relative)).catch(() => undefined);
  if (!file || !file.startsWith(realRoot + path.sep)) return undefined;
  return { file, contentType: CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream' };
}

/**
 * Strict CSP for the window: only the renderer's own files run, and the only network
 * peer is the local gateway on its actual port.
 */
export function rendererCsp(gatewayPort: number): string {
  const gateway = [`http://127.0.0.1:${gatewayPort}`, `http://localhost:${gatewayPort}`].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${gateway}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
