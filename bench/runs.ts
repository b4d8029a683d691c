// Ticket runs under load: N concurrent runs of the fake provider (each its own detached run
// host, 5 iterations, a real `node check.js` command judge after each), plus M runs of the
// real claude against the mock model API. While they run: the gateway's event-loop delay
// (p99, max), GET /symphony/status latency (p99), and each host's RSS. Then reattach: the
// gateway closes with N live runs (hosts keep going) and a new one on the same data dir
// reattaches them; the time until the status route shows every run live again.
// The gateway runs in this process, so the loop delay measured is the gateway's.
//   node --import tsx bench/runs.ts [--runs 20] [--claude 4] [--iterations 5] [--smoke]
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { MockModelApi } from '../main/providers/testing/mock-model-api.js';
import { FAKE_PROVIDER_ID } from '../main/providers/testing/fake-provider.js';
import { testHomesDir } from '../main/providers/testing/cli-env.js';
import { FAKE_RUN_HOST } from '../main/symphony/testing/fake-run-host.js';
import { createRunRepo, startRunGateway } from '../main/symphony/testing/run-fixture.js';
import type { TestGateway } from '../main/gateway/testing.js';
import { loadAverage, numberOption, percentile, printReport, round } from './support.js';

const RUNS = numberOption('runs', 20, 2);
// Smoke: no real CLI (seconds, not a minute); the full size runs 4 real claude runs beside the fake ones.
const CLAUDE_RUNS = numberOption('claude', 4, 0);
const ITERATIONS = numberOption('iterations', 5, 2);
const CLAUDE_ITERATIONS = numberOption('claude-iterations', ITERATIONS, 1);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function rssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function statuses(gw: TestGateway, samples?: number[]): Promise<Json[]> {
  const started = performance.now();
  const res = await gw.request('/api/gateway/symphony/status', { auth: 'token' });
  samples?.push(performance.now() - started);
  if (res.status !== 200) throw new Error(`status route answered ${res.status}: ${res.text}`);
  return res.json.runs;
}

/** The load phase ends within this (the full size takes a few minutes on 2 quiet cores). */
const LOAD_DEADLINE_MS = 30 * 60_000;
const LIVE_DEADLINE_MS = 5 * 60_000;

/** Polls the status route until RUNS runs are live; fails (never hangs) after LIVE_DEADLINE_MS. */
async function untilLive(gw: TestGateway, isLive: (r: Json) => boolean, everyMs: number, what: string): Promise<void> {
  const deadline = performance.now() + LIVE_DEADLINE_MS;
  for (;;) {
    const runs = await statuses(gw);
    if (runs.filter(isLive).length >= RUNS) return;
    if (performance.now() > deadline) {
      throw new Error(`not every live run was ${what} within ${LIVE_DEADLINE_MS / 60_000} min: ${JSON.stringify(runs.filter((r) => !isLive(r) && r.ticketId.startsWith('BENCH-live-')).map((r) => [r.ticketId, r.status, r.processRunning, r.lastError]))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function main(): Promise<void> {
  const api = await MockModelApi.start();
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'bench-runs-')));
  const homes = mkdtempSync(path.join(testHomesDir(), 'bench-runs-'));
  const dataDir = path.join(root, 'data');
  const repo = await createRunRepo(root);
  const gatewayOf = async () => {
    const gw = await startRunGateway({ root, api, dataDir, homes });
    gw.services.runs.setHostScript(FAKE_RUN_HOST);
    return gw;
  };
  let gw = await gatewayOf();
  let failed = 0;
  try {
    // Phase 1: the load. The judge fails every time (no fixed.txt), so each run goes its full ITERATIONS.
    const judges = [{ name: 'test', command: 'node check.js' }];
    // One answer per claude turn, and spares: a turn retried after a slow start must not find the queue dry.
    for (let i = 0; i < CLAUDE_RUNS * (CLAUDE_ITERATIONS + 2); i++) api.script({ kind: 'text', text: 'Still working on it.' });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    const gatewayRssBefore = process.memoryUsage().rss / 1024 / 1024;
    const started = performance.now();
    delay.enable();
    const launches = [
      ...Array.from({ length: RUNS }, (_, i) => ({ ticketIdentifier: `BENCH-fake-${i}`, provider: FAKE_PROVIDER_ID, maxIterations: ITERATIONS })),
      ...Array.from({ length: CLAUDE_RUNS }, (_, i) => ({ ticketIdentifier: `BENCH-claude-${i}`, provider: 'claude' as const, maxIterations: CLAUDE_ITERATIONS })),
    ];
    // The first launch alone: concurrent first launches on an unregistered repository race
    // in RepoRegistry.add (UNIQUE repos.path; reported, not fixed here).
    const [first, ...others] = launches;
    await gw.services.runs.start({ ...first, repoPath: repo, skipPlan: true, autoApprovePlan: true, judges });
    await Promise.all(others.map((l) => gw.services.runs.start({ ...l, repoPath: repo, skipPlan: true, autoApprovePlan: true, judges })));
    const statusMs: number[] = [];
    const hostRss = new Map<number, number>();
    let gatewayRssPeak = 0;
    for (;;) {
      const runs = await statuses(gw, statusMs);
      for (const run of runs) {
        const rss = run.pid ? rssMb(run.pid) : null;
        if (rss !== null) hostRss.set(run.pid, Math.max(hostRss.get(run.pid) ?? 0, rss));
      }
      gatewayRssPeak = Math.max(gatewayRssPeak, process.memoryUsage().rss / 1024 / 1024);
      if (performance.now() - started > LOAD_DEADLINE_MS) {
        throw new Error(`the runs did not all end within ${LOAD_DEADLINE_MS / 60_000} min: ${JSON.stringify(runs.filter((r) => r.processRunning || ['STARTING', 'IN_PROGRESS'].includes(r.status)).map((r) => [r.ticketId, r.status, r.iteration, r.phase]))}`);
      }
      if (runs.length === launches.length && runs.every((r) => !['STARTING', 'IN_PROGRESS'].includes(r.status) && !r.processRunning)) {
        failed = runs.filter((r) => r.status !== 'COMPLETED' || r.iteration !== r.maxIterations).length;
        if (failed) console.error(JSON.stringify(runs.filter((r) => r.status !== 'COMPLETED').map((r) => [r.ticketId, r.status, r.lastError])));
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    delay.disable();
    const wallS = (performance.now() - started) / 1000;
    const loadDuring = loadAverage();
    statusMs.sort((a, b) => a - b);
    const hostRssValues = [...hostRss.values()];

    // Phase 2: reattach. Runs that stay live (many iterations), the gateway closed, a new one started.
    // A fake turn takes ~250 ms: enough iterations that no run can finish before all 20 are live
    // (worktree creation is one at a time per repository), at any machine load.
    const live = Array.from({ length: RUNS }, (_, i) => ({ ticketIdentifier: `BENCH-live-${i}`, provider: FAKE_PROVIDER_ID, maxIterations: 100_000 }));
    await Promise.all(live.map((l) => gw.services.runs.start({ ...l, repoPath: repo, skipPlan: true, autoApprovePlan: true, judges: [] })));
    const isLive = (r: Json) => r.ticketId.startsWith('BENCH-live-') && r.status === 'IN_PROGRESS' && r.processRunning;
    await untilLive(gw, isLive, 50, 'started');
    await gw.close();
    const reattachStarted = performance.now();
    gw = await gatewayOf();
    const gatewayUpMs = performance.now() - reattachStarted;
    await untilLive(gw, isLive, 10, 'reattached');
    const reattachMs = performance.now() - reattachStarted;
    await Promise.all(gw.services.runs.list().filter((r) => r.ticketId.startsWith('BENCH-live-')).map((r) => gw.services.runs.stop(r)));
    const leftLive = (await statuses(gw)).filter((r) => r.processRunning).length;

    printReport('runs', {
      runs: RUNS, claudeRuns: CLAUDE_RUNS, iterations: ITERATIONS, claudeIterations: CLAUDE_ITERATIONS, wallS: round(wallS, 1), loadDuring,
      eventLoopDelayMs: { p50: round(delay.percentile(50) / 1e6), p99: round(delay.percentile(99) / 1e6), max: round(delay.max / 1e6) },
      statusRouteMs: { samples: statusMs.length, p50: round(percentile(statusMs, 50)), p99: round(percentile(statusMs, 99)), max: round(statusMs.at(-1) ?? 0) },
      memoryMb: {
        hostRssMean: round(hostRssValues.reduce((a, b) => a + b, 0) / Math.max(1, hostRssValues.length), 1),
        hostRssMax: round(Math.max(0, ...hostRssValues), 1),
        hostsSampled: hostRssValues.length,
        gatewayRssGrowthPerRun: round((gatewayRssPeak - gatewayRssBefore) / launches.length, 2),
      },
      reattach: { liveRuns: RUNS, gatewayStartMs: round(gatewayUpMs), allLiveAgainMs: round(reattachMs) },
      failed: failed + (leftLive ? 1 : 0),
    });
  } finally {
    await gw.close();
    await api.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(homes, { recursive: true, force: true });
  }
}

await main();
