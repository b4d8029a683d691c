// Serves the built renderer (dist/renderer) at /ui/ for headless mode: the Koa glue around
// the one static file server (main/desktop-ui/renderer-files.ts, which the window's app://
// handler also calls). It runs before the auth chain: these are public static files and
// hold no secret; the page pairs itself afterwards from the challenge in its URL fragment,
// which never reaches us.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Middleware, ParameterizedContext } from 'koa';
import { errorReply } from '../../shared/error-reply.js';
import { isRendererBuilt, RENDERER_BASE_PATH, rendererCsp, rendererHeaders, resolveRendererPath } from '../desktop-ui/renderer-files.js';

/** The page talks only to its own origin and runs only its own files. */
export const RENDERER_CSP = rendererCsp();

export function serveRenderer(distDir: string): Middleware {
  const root = resolve(distDir);
  const serve: Middleware = async (ctx) => {
    (ctx.state as { staticFile?: boolean }).staticFile = true;
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      return fail(ctx, 405, 'method_not_allowed', 'The renderer is read-only: use GET or HEAD.');
    }
    // A relative base would break asset URLs; the redirect keeps the #fragment.
    if (ctx.path === '/ui') return ctx.redirect(RENDERER_BASE_PATH + (ctx.querystring ? `?${ctx.querystring}` : ''));

    const found = await resolveRendererPath(root, ctx.path.slice(RENDERER_BASE_PATH.length));
    if (!found) {
      return (await isRendererBuilt(root))
        ? fail(ctx, 404, 'not_found', 'No such file.')
        : fail(ctx, 404, 'ui_not_built', 'The renderer is not built: run `npm run build`.');
    }
    for (const [name, value] of Object.entries(rendererHeaders(found, RENDERER_CSP))) ctx.res.setHeader(name, value);
    ctx.status = 200;
    ctx.body = await readFile(found.file);
    ctx.type = found.contentType;
  };
  // Every API request passes here: those not under /ui/ go on without an async frame of their own.
  return (ctx, next) => (ctx.path !== '/ui' && !ctx.path.startsWith(RENDERER_BASE_PATH) ? next() : serve(ctx, next));
}

function fail(ctx: ParameterizedContext, status: number, code: string, message: string): void {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.status = status;
  ctx.body = errorReply(message, code);
}
