// The composition root: builds every main-process service once and hands them to
// the gateway. main/cli.ts and main/app/ both call createServices; there are no
// module-level singletons, so a test can run two gateways side by side.
import type { Logger } from 'pino';
import type { Db } from './store/database.js';
import type { SettingsStore } from './store/settings.js';
import type { Supervisor } from './supervisor/supervisor.js';

export interface Services {
  version: string;
  dataDir: string;
  log: Logger;
  db: Db;
  settings: SettingsStore;
  supervisor: Supervisor;
}
