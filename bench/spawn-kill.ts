// Spawn-and-kill benchmark of the supervisor: each cycle starts a child that starts a
// grandchild (`sh -c 'sleep 60 & echo $!; sleep 60'`), waits until the grandchild is
// running, kills the tree and times kill() until the whole tree is gone. At the end,
// /proc is scanned for anything left of any cycle (orphans; target 0).
//
//   node --import tsx bench/spawn-kill.ts [--cycles 1000] [--grace-ms 3000]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../main/store/database.js';
import { listProcesses } from '../main/supervisor/procfs.js';
import { Supervisor, type SupervisedChild } from '../main/supervisor/supervisor.js';
import { numberOption, percentile, printReport, round } from './support.js';

const CYCLES = numberOption('cycles', 1_000, 20);
const GRACE_MS = numberOption('grace-ms', 3_000);

async function grandchildOf(child: SupervisedChild): Promise<number> {
  for await (const entry of child.lines()) return Number(entry.line);
  throw new Error('the child printed nothing');
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-spawn-kill-'));
  const db = openDatabase(path.join(dataDir, 'gateway.sqlite'));
  const supervisor = new Supervisor({ db, dataDir, graceMs: GRACE_MS });
  const killMs: number[] = [];
  const spawnMs: number[] = [];
  const leaders = new Set<number>();
  const grandchildren = new Set<number>();
  let forcedStates = 0;
  const started = performance.now();

  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const spawnStart = performance.now();
    const child = await supervisor.start({
      command: 'sh',
      args: ['-c', 'sleep 60 & echo $!; sleep 60'],
      cwd: dataDir,
      stdin: 'ignore',
      label: 'bench',
    });
    grandchildren.add(await grandchildOf(child));
    spawnMs.push(performance.now() - spawnStart);
    leaders.add(child.pid);
    const killStart = performance.now();
    const exit = await child.kill();
    killMs.push(performance.now() - killStart);
    if (exit.state !== 'killed') forcedStates++;
  }
  const totalS = (performance.now() - started) / 1000;

  // Leftovers: any live process of a benchmark group, or a grandchild still running.
  const left = listProcesses().filter((p) => p.state !== 'Z' && (leaders.has(p.pgid) || grandchildren.has(p.pid)));
  const zombies = listProcesses().filter((p) => p.state === 'Z' && grandchildren.has(p.pid)).length;
  const stillRecorded = (db.prepare(`SELECT count(*) AS n FROM processes WHERE state = 'running'`).get() as { n: number }).n;
  await supervisor.stopAll();
  db.close();
  rmSync(dataDir, { recursive: true, force: true });

  killMs.sort((a, b) => a - b);
  spawnMs.sort((a, b) => a - b);
  const ms = (value: number) => round(value, 1);
  printReport('spawn-kill', {
    cycles: CYCLES,
    cpus: os.cpus().length,
    totalSeconds: round(totalS, 1),
    orphansLeft: left.length,
    orphanPids: left.map((p) => p.pid),
    recordsStillRunning: stillRecorded,
    unexpectedEndStates: forcedStates,
    treeKillMs: { p50: ms(percentile(killMs, 50)), p99: ms(percentile(killMs, 99)), max: ms(killMs[killMs.length - 1]) },
    spawnUntilGrandchildRunsMs: { p50: ms(percentile(spawnMs, 50)), p99: ms(percentile(spawnMs, 99)) },
    grandchildZombiesUnreapedByPid1: zombies,
    errors: left.length + stillRecorded + forcedStates,
  });
  if (left.length > 0) process.exitCode = 1;
}

await main();
