// The app window: a sandboxed renderer served from app://symphony, locked to it.
import { readFile } from 'node:fs/promises';
import { app, BrowserWindow, protocol, session, type Session } from 'electron';
import {
  isPermissionGranted,
  isRendererUrl,
  RENDERER_ENTRY_URL,
  RENDERER_SCHEME,
  rendererCsp,
  rendererHeaders,
  resolveRendererFile,
} from '../desktop-ui/renderer-files.js';

/** Must run before the app is ready: privileges cannot be granted later. */
export function registerRendererScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: RENDERER_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

/**
 * The renderer's session: in memory only (no partition on disk, so nothing the renderer
 * stores, tokens included, outlives the window), serving dist/renderer under a strict CSP,
 * with every permission refused but loopback access (Local Network Access) to the gateway.
 */
export function createRendererSession(rendererRoot: string, gatewayPort: number): Session {
  const rendererSession = session.fromPartition('symphony-renderer');
  const csp = rendererCsp(gatewayPort);
  rendererSession.protocol.handle(RENDERER_SCHEME, async (request) => {
    const found = request.method === 'GET' ? await resolveRendererFile(rendererRoot, request.url) : undefined;
    if (!found) return new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    return new Response(await readFile(found.file), { headers: rendererHeaders(found, csp) });
  });
  // The handler above sets the CSP on what it serves; this also covers anything else that
  // reaches a renderer URL through the network stack (e.g. a service worker's response).
  rendererSession.webRequest.onHeadersReceived((details, callback) => {
    if (!isRendererUrl(details.url)) return callback({});
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  rendererSession.setPermissionRequestHandler((_contents, permission, callback, details) =>
    callback(isPermissionGranted(permission, details.requestingUrl)),
  );
  rendererSession.setPermissionCheckHandler((_contents, permission, requestingOrigin) => isPermissionGranted(permission, requestingOrigin));
  return rendererSession;
}

/** Applies to every webContents the app ever creates: no navigation away, no popups, no webviews. */
export function lockNavigation(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event, url) => {
      if (!isRendererUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isRendererUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}

export function createMainWindow(options: { rendererSession: Session; preload: string; icon: string }): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 840,
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'Symphony Desktop',
    icon: options.icon,
    webPreferences: {
      session: options.rendererSession,
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(RENDERER_ENTRY_URL);
  return window;
}
