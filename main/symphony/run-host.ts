// The run host: one process per running ticket run, started detached by the gateway
// (its own session and process group) so that a gateway quit or crash leaves it working.
// It reads its job from stdin (never argv or env: it holds the CLIs' model-API settings),
// opens the same SQLite file (WAL), runs the loop with its own supervisor for the agent
// CLIs and judges, and exits when the run rests. SIGTERM is a user's stop.
// A job with `loop` is a cloud loop's agent instead (main/relay/loops/loop-host.ts).
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { readStdin } from '../cli/stdin.js';
import { handedOverEnvironment, type AgentEnvHandover } from '../providers/agent-env.js';
import { ClaudeProvider } from '../providers/claude.js';
import { Confiner, confinementEnabled } from '../providers/confinement.js';
import { CodexProvider } from '../providers/codex.js';
import { ProviderRegistry } from '../providers/registry.js';
import type { CliProviderConfig, Provider } from '../providers/types.js';
import { openDatabase } from '../store/database.js';
import { SettingsStore } from '../store/settings.js';
import type { LoopHostJob } from '../relay/loops/loop-host.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { RunLoop } from './run-loop.js';
import { RunStore } from './run-store.js';

export interface RunProviderConfigs {
  claude?: CliProviderConfig;
  codex?: CliProviderConfig;
}

export interface RunHostJob {
  runId: string;
  dataDir: string;
  dbFile: string;
  providers: RunProviderConfigs;
  binarySearchDirs?: string[];
  logLevel?: string;
  /** The part of the agent environment only the gateway has (its own environment, the secret store). */
  agentEnv?: AgentEnvHandover;
  /** A cloud loop's one turn rather than a ticket run (`runId` is then the loop id). */
  loop?: LoopHostJob;
}

/** Providers beyond the two CLIs (tests and benchmarks: the fake provider, through their own host entry). */
export type ExtraProviders = (supervisor: Supervisor) => Provider[];

async function main(extra: ExtraProviders): Promise<number> {
  const job = JSON.parse(await readStdin(1024 * 1024)) as RunHostJob;
  const log = pino({ level: job.logLevel ?? 'info' }).child({ component: 'run-host', runId: job.runId });
  const db = openDatabase(job.dbFile);
  const settings = new SettingsStore(db);
  const supervisor = new Supervisor({ db, settings, dataDir: job.dataDir, log, extraSearchDirs: job.binarySearchDirs });
  // The off switch and the agent-environment settings are read from the shared database at
  // every turn start, as the gateway does: a change in Settings reaches a long run's next turn.
  // processes: the host learns the npm root once for claude's npm shim (see Confiner), as the gateway does.
  const confiner = new Confiner({ enabled: () => confinementEnabled(settings), environment: handedOverEnvironment(settings, job.agentEnv), log, processes: supervisor });
  const providers = new ProviderRegistry([
    new ClaudeProvider(supervisor, { confiner, ...job.providers.claude }),
    new CodexProvider(supervisor, { confiner, ...job.providers.codex }),
    ...extra(supervisor),
  ]);
  const stop = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop.abort());
  // The gateway that started us may be gone; its terminal's hangup is not our stop.
  process.on('SIGHUP', () => undefined);
  if (job.loop) {
    const { runLoopHost } = await import('../relay/loops/loop-host.js');
    await runLoopHost({ db, providers, log, signal: stop.signal }, job.loop);
    log.info('loop host done');
    await supervisor.stopAll();
    db.close();
    return 0;
  }
  const store = new RunStore(db);
  const loop = new RunLoop({ store, providers, processes: supervisor, log, signal: stop.signal }, job.runId);
  const status = await loop.execute();
  log.info({ status }, 'run host done');
  await supervisor.stopAll();
  // Only our own identity: the gateway may already have started the run's next host
  // (a resume, or PR feedback) while this one was shutting down.
  store.clearHost(job.runId, process.pid);
  db.close();
  return 0;
}

/** Runs the host's job and exits; a test or bench host entry calls it with its extra providers. */
export function startHost(extra: ExtraProviders = () => []): void {
  main(extra).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`run host failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) startHost();
