// How many live ticket runs and cloud loops a caller launched, straight from the database (any
// process's hosts count): the agent cap reads these at every start. Apart from RunStore and
// LoopStore so that the composition root counts without importing them before the port opens
// (they load with the runs and loops services). 0 where a table or column is not there yet.
import { getIfMigrated, type Db } from './database.js';

/** Runs `key` launched that are STARTING or IN_PROGRESS. */
export function liveRunsLaunchedBy(db: Db, key: string): number {
  return getIfMigrated<{ n: number }>(db, "SELECT COUNT(*) AS n FROM symphony_runs WHERE launched_by = ? AND status IN ('STARTING', 'IN_PROGRESS')", key)?.n ?? 0;
}

/** Loops `key` started that are initializing or running. */
export function liveLoopsLaunchedBy(db: Db, key: string): number {
  return getIfMigrated<{ n: number }>(db, "SELECT COUNT(*) AS n FROM loops WHERE launched_by = ? AND status IN ('initializing', 'running')", key)?.n ?? 0;
}
