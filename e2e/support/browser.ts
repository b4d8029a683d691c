// Debian's Chromium, driven by Playwright without its own browser download.
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Quiet, offline, sandbox-free (containers) Chromium. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
