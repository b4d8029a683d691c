// Serves the built renderer (dist/renderer) at /ui/ for headless mode. It runs before
// the auth chain: these are public static files and hold no secret; the page pairs
// itself afterwards from the challenge in its URL fragment, which never reaches us.
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { Middleware, ParameterizedContext } from 'koa';
import { errorReply } from '../../shared/schemas/errors.js';

const PREFIX = '/ui/';

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

/** The page talks only to its own origin and runs only its own files. */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': RENDERER_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function serveRenderer(distDir: string): Middleware {
  const root = resolve(distDir);
  return async (ctx, next) => {
    if (ctx.path !== '/ui' && !ctx.path.startsWith(PREFIX)) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      return fail(ctx, 405, 'method_not_allowed', 'The renderer is read-only: use GET or HEAD.');
    }
    // A relative base would break asset URLs; the redirect keeps the #fragment.
    if (ctx.path === '/ui') return ctx.redirect(PREFIX + (ctx.querystring ? `?${ctx.querystring}` : ''));

    const relative = safeRelativePath(ctx.path.slice(PREFIX.length) || 'index.html');
    if (!relative) return fail(ctx, 404, 'not_found', 'No such file.');
    const file = await findFile(root, relative);
    if (!file) {
      const built = await stat(resolve(root, 'index.html')).then((s) => s.isFile(), () => false);
      return built
        ? fail(ctx, 404, 'not_found', 'No such file.')
        : fail(ctx, 404, 'ui_not_built', 'The renderer is not built: run `npm run build`.');
    }

    ctx.set(SECURITY_HEADERS);
    // Vite names assets by content hash, so they never change; index.html must be revalidated.
    ctx.set('Cache-Control', relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.type = CONTENT_TYPES[extname(relative).toLowerCase()] ?? 'application/octet-stream';
    ctx.status = 200;
    ctx.body = await readFile(file);
  };
}

/** The decoded path under the prefix, or null when it is not a plain relative path. */
function safeRelativePath(encoded: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.startsWith('/')) return null;
  const segments = decoded.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return null;
  return segments.join('/');
}

/** The file's real path when it is a regular file inside root (symlinks included). */
async function findFile(root: string, relative: string): Promise<string | null> {
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(resolve(root, relative))]);
    if (!realFile.startsWith(realRoot + sep)) return null;
    return (await stat(realFile)).isFile() ? realFile : null;
  } catch {
    return null;
  }
}

function fail(ctx: ParameterizedContext, status: number, code: string, message: string): void {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.status = status;
  ctx.body = errorReply(message, code);
}
