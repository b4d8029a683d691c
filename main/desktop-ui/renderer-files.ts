// The built renderer on disk and how it is served: the window's custom scheme, its
// permissions, and the one static file server (path rules, content types, headers, CSP)
// that the gateway's /ui/ and the window's app:// handler both call. Plain Node so it is
// tested without Electron; main/app/window.ts only wires these into protocol.handle.
import { realpath, stat } from 'node:fs/promises';
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

// The one static file server of the built renderer, for both places that serve it: the
// gateway's /ui/ (main/gateway/static-ui.ts, the Koa glue) and the window's app:// scheme
// (main/app/window.ts, the Electron glue). Both share these path rules, content types,
// headers and CSP.

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

export interface RendererFile {
  /** The real path, inside the renderer root. */
  file: string;
  /** The path below the base, e.g. `assets/app-1a2b.js`. */
  relative: string;
  contentType: string;
}

/**
 * The file that `encodedPath` (the still-encoded URL path below RENDERER_BASE_PATH) names
 * in `root`, or undefined. Decoded once; NUL, backslashes, empty, `.` and `..` segments
 * are refused, and the real path (symlinks resolved) must be a regular file inside root.
 * The empty path is index.html; the renderer has no client-side path routes.
 */
export async function resolveRendererPath(root: string, encodedPath: string): Promise<RendererFile | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encodedPath || 'index.html');
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return undefined;
  const relative = segments.join('/');
  try {
    const realRoot = await realpath(root);
    const file = await realpath(path.join(realRoot, relative));
    if (!file.startsWith(realRoot + path.sep) || !(await stat(file)).isFile()) return undefined;
    return { file, relative, contentType: CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream' };
  } catch {
    return undefined;
  }
}

/** Whether `root` holds a built renderer (so a miss can say "run npm run build"). */
export async function isRendererBuilt(root: string): Promise<boolean> {
  return stat(path.join(root, 'index.html')).then((s) => s.isFile(), () => false);
}

/**
 * The window's scheme: the file an app://symphony/ui/... URL names, or undefined when the
 * URL is not the renderer's; then the same rules as /ui/.
 */
export async function resolveRendererFile(root: string, requestUrl: string): Promise<RendererFile | undefined> {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== `${RENDERER_SCHEME}:` || url.host !== RENDERER_HOST) return undefined;
  const pathname = url.pathname === RENDERER_BASE_PATH.slice(0, -1) ? RENDERER_BASE_PATH : url.pathname;
  if (!pathname.startsWith(RENDERER_BASE_PATH)) return undefined;
  return resolveRendererPath(root, pathname.slice(RENDERER_BASE_PATH.length));
}

/**
 * Strict CSP for the renderer wherever it is served: only its own files run, and its only
 * network peer is its own origin, plus (in the window, whose origin is app://) the local
 * gateway on its actual port.
 */
export function rendererCsp(gatewayPort?: number): string {
  const gateway = gatewayPort === undefined ? '' : ` http://127.0.0.1:${gatewayPort} http://localhost:${gatewayPort}`;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${gateway}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** The headers every renderer file is served with. */
export function rendererHeaders(file: RendererFile, csp: string): Record<string, string> {
  return {
    'Content-Type': file.contentType,
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    // Vite names assets by content hash, so they never change; index.html must be revalidated.
    'Cache-Control': file.relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
}
