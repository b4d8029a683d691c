// Electron entry (package.json "main": dist/main/app/main.js). A thin shell: it starts the
// same gateway core the headless CLI runs, then adds the window, tray and deep links.
// `--headless` runs the gateway with no window and no tray.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, dialog, BrowserWindow } from 'electron';
import { findDeepLink } from '../auth/deep-link.js';
import { PRODUCT_NAME, packageRoot, resolveDataDir } from '../config/paths.js';
import { startGateway, stopGateway, type RunningGateway } from '../gateway/server.js';
import { guardProcess } from '../process-guard.js';
import { createServices, type Services } from '../services.js';
import { fdDestination, openGatewayLog } from '../telemetry/log-files.js';
import { QUIT_RUNS_SETTING, quitRunsAnswer, quitRunsPlan, type QuitRunsChoice } from '../desktop-ui/quit-runs.js';
import { RENDERER_ORIGIN } from '../desktop-ui/renderer-files.js';
import { createDeepLinkHandler, registerDeepLinkProtocol } from './deep-links.js';
import { registerIpc, showApprovalsScreen } from './ipc.js';
import { createTray } from './tray.js';
import { createMainWindow, createRendererSession, lockNavigation, registerRendererScheme } from './window.js';

const headless = process.argv.includes('--headless');
// Quitting waits for children to stop; past this it gives up rather than hang the OS logout.
const SHUTDOWN_TIMEOUT_MS = 10_000;

interface Running {
  services: Services;
  gateway: RunningGateway;
  dispose: Array<() => void>;
}

let running: Running | undefined;
let mainWindow: BrowserWindow | undefined;
let createWindow: (() => BrowserWindow) | undefined;
// Links that arrive before the gateway is up (macOS sends open-url during launch).
const earlyLinks: string[] = [];
let openLink = async (link: string): Promise<void> => {
  earlyLinks.push(link);
};

// One data dir for the app and the CLI (`symphony-gateway token|pair|sessions` read it too):
// $SYMPHONY_DATA_DIR, else the platform's place for "Symphony Desktop"; an explicit
// --user-data-dir (tests) wins. Set before the single-instance lock, which Electron keys
// on the userData path.
app.setName(PRODUCT_NAME);
if (!app.commandLine.hasSwitch('user-data-dir')) app.setPath('userData', resolveDataDir());

if (!app.requestSingleInstanceLock()) {
  // Another instance owns the gateway; it gets our argv (and any deep link) via second-instance.
  app.quit();
} else {
  registerRendererScheme();
  lockNavigation();
  app.on('second-instance', (_event, argv) => {
    const link = findDeepLink(argv);
    if (link) void openLink(link);
    else showWindow();
  });
  app.on('open-url', (event, link) => {
    event.preventDefault();
    void openLink(link);
  });
  const firstLink = findDeepLink(process.argv);
  if (firstLink) earlyLinks.push(firstLink);
  start().catch((error: unknown) => {
    // E.g. all four gateway ports taken: the message names them and what holds them.
    const message = error instanceof Error ? error.message : String(error);
    console.error('Symphony Desktop failed to start:', error);
    if (!headless) dialog.showErrorBox('Symphony Desktop could not start', message);
    app.exit(1);
  });
}

async function start(): Promise<void> {
  await app.whenReady();
  const dataDir = app.getPath('userData');
  const services = await createServices({
    secretStore: 'keychain',
    dataDir,
    gatewayLog: openGatewayLog({ dataDir, level: process.env.SYMPHONY_LOG_LEVEL ?? 'info', tee: fdDestination(1) }),
    rendererOrigins: [RENDERER_ORIGIN],
    reapOrphans: true,
  });
  guardProcess(services.log);
  const gateway = await startGateway(services).catch(async (error: unknown) => {
    await services.close();
    throw error;
  });
  running = { services, gateway, dispose: [] };
  // Once the first requests' routes are in: read the login shell's PATH in the background (a
  // GUI-launched app needs it to find the CLIs), and load and start the relay client (its zod
  // schemas load then, not before the port opens).
  gateway.ready
    .then(() => {
      services.supervisor.binaries.probeLoginShell();
      return services.load('relay');
    })
    .then(
      () => services.relay.start(),
      (error: unknown) => services.log.error({ err: error }, 'the relay client could not load'),
    );
  app.on('before-quit', onBeforeQuit);
  // Ctrl-C under `npm start`, or a service manager stopping us: quit the same orderly way.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => app.quit());

  if (headless) {
    // Same contract as `symphony-gateway serve`: one JSON line when ready.
    console.log(JSON.stringify({ event: 'listening', url: gateway.url, port: gateway.port, mode: 'electron-headless' }));
    return;
  }

  // The folder holding package.json (inside app.asar when packaged); found from this file,
  // so `electron dist/main/app/main.js` works as well as `electron .`.
  const appRoot = packageRoot();
  const icon = path.join(appRoot, 'resources', 'icon.png');
  const rendererSession = createRendererSession(path.join(appRoot, 'dist', 'renderer'), gateway.port);
  const preload = fileURLToPath(new URL('./preload.cjs', import.meta.url));
  createWindow = () => {
    const window = createMainWindow({ rendererSession, preload, icon });
    window.on('closed', () => {
      mainWindow = undefined;
    });
    return window;
  };
  mainWindow = createWindow();

  running.dispose.push(registerIpc({ services, gateway, window: () => mainWindow }));
  const tray = createTray({
    services,
    port: gateway.port,
    icon,
    runningProcesses: () => services.supervisor.list().length,
    showWindow,
    showApprovals: () => {
      const window = showWindow();
      if (window) showApprovalsScreen(window);
    },
    quit: () => app.quit(),
  });
  running.dispose.push(() => tray.dispose());

  registerDeepLinkProtocol();
  openLink = createDeepLinkHandler({ services, port: gateway.port, window: () => mainWindow });
  for (const link of earlyLinks.splice(0)) void openLink(link);

  // Closing the window keeps the gateway (and the tray) running for paired browser tabs.
  app.on('window-all-closed', () => undefined);
  app.on('activate', showWindow);
}

/** Brings the window up (creating it again if it was closed); undefined in headless mode. */
function showWindow(): BrowserWindow | undefined {
  if (!createWindow) return undefined;
  mainWindow ??= createWindow();
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
  return mainWindow;
}

/**
 * Holds the quit until every child is stopped (services.close) and the server is closed.
 * Live ticket runs keep going in their own hosts unless the user says to stop them (asked
 * once per quit, or a remembered choice; headless: --stop-runs-on-exit); Cancel keeps the app.
 */
function onBeforeQuit(event: Electron.Event): void {
  const current = running;
  if (!current) return;
  running = undefined;
  event.preventDefault();
  void decideRuns(current.services).then(
    (choice) => {
      if (choice === 'cancel') {
        running = current;
        return;
      }
      shutDown(current, choice === 'stop');
    },
    (error: unknown) => {
      console.error('Could not check the ticket runs before quitting:', error);
      shutDown(current, false);
    },
  );
}

async function decideRuns(services: Services): Promise<QuitRunsChoice | 'cancel'> {
  await services.load('runs');
  const plan = quitRunsPlan(services.runs.store.active().length, headless ? (process.argv.includes('--stop-runs-on-exit') ? 'stop' : 'keep') : services.settings.get(QUIT_RUNS_SETTING));
  if (!plan.ask) return plan.stopRuns ? 'stop' : 'keep';
  const options = { type: 'question' as const, noLink: true, ...plan.dialog };
  const { response, checkboxChecked } = mainWindow ? await dialog.showMessageBox(mainWindow, options) : await dialog.showMessageBox(options);
  const answer = quitRunsAnswer(response, checkboxChecked);
  if (answer.remember && answer.choice !== 'cancel') services.settings.set(QUIT_RUNS_SETTING, answer.choice);
  return answer.choice;
}

function shutDown(current: Running, stopRuns: boolean): void {
  const stop = async () => {
    for (const dispose of current.dispose) dispose();
    if (stopRuns) await current.services.runs.stopAll();
    await stopGateway(current.gateway, current.services);
  };
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_MS).unref());
  Promise.race([stop(), timeout])
    .catch((error: unknown) => console.error('Error while stopping the gateway:', error))
    .finally(() => app.quit());
}
