// Pairing deep links (symphony-desktop://pair?origin=...&state=...): ask the user, then
// hand a local challenge to the page through its /desktop/paired URL in the browser.
// Parsing and validation live in main/auth/deep-link.ts; this file only talks to the user.
import path from 'node:path';
import { app, dialog, shell, type BrowserWindow } from 'electron';
import { DEEP_LINK_SCHEME, pairedPageUrl, parsePairLink } from '../auth/deep-link.js';
import { PAIRED_ORIGIN_PROMISE } from '../auth/policy.js';
import { isAppError } from '../errors.js';
import type { Services } from '../services.js';

/** Makes the OS send symphony-desktop:// links to this app (in development: to `electron .`). */
export function registerDeepLinkProtocol(): void {
  if (process.defaultApp && process.argv[1]) {
    app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, process.execPath, [path.resolve(process.argv[1])]);
  } else {
    app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME);
  }
}

export interface DeepLinkContext {
  services: Services;
  port: number;
  window: () => BrowserWindow | undefined;
}

// A page firing links in a loop gets a few dialogs in turn, not a wall of them.
const MAX_WAITING_LINKS = 3;

/** One dialog at a time, and at most MAX_WAITING_LINKS waiting; more are dropped and logged. */
export function createDeepLinkHandler(context: DeepLinkContext): (link: string) => Promise<void> {
  let queue = Promise.resolve();
  let waiting = 0;
  return (link) => {
    if (waiting >= MAX_WAITING_LINKS) {
      context.services.log.warn('dropped a pairing deep link: too many waiting for an answer');
      return queue;
    }
    waiting += 1;
    queue = queue
      .then(() => askAndPair(context, link))
      .catch((error: unknown) => context.services.log.error({ err: error }, 'deep link pairing failed'))
      .finally(() => {
        waiting -= 1;
      });
    return queue;
  };
}

async function askAndPair({ services, port, window }: DeepLinkContext, link: string): Promise<void> {
  let request;
  try {
    request = parsePairLink(link);
  } catch (error) {
    if (!isAppError(error)) throw error;
    services.log.warn({ reason: error.message }, 'refused a pairing deep link');
    dialog.showErrorBox('Pairing link refused', error.message);
    return;
  }
  const parent = window();
  const options: Electron.MessageBoxOptions = {
    type: 'question',
    buttons: ['Deny', 'Pair'],
    defaultId: 0,
    cancelId: 0,
    noLink: true,
    title: 'Pair a web page',
    message: `Allow ${request.origin} to use Symphony Desktop?`,
    detail: [
      `Code: ${request.shortCode}`,
      '',
      'Pair only if the page you came from shows this same code.',
      PAIRED_ORIGIN_PROMISE,
    ].join('\n'),
  };
  const { response } = parent ? await dialog.showMessageBox(parent, options) : await dialog.showMessageBox(options);
  if (response !== 1) {
    services.log.info({ origin: request.origin }, 'pairing deep link denied by the user');
    return;
  }
  const challenge = services.challenges.mint(request.origin);
  services.log.info({ origin: request.origin }, 'pairing deep link approved; opening the page');
  await shell.openExternal(pairedPageUrl(request, challenge.challengeToken, port));
}
