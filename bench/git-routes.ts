// git routes benchmark: sequential latency of POST /git status, GET /git/branches and
// POST /git/diff over HTTP on a 2,000-file repository, against the bare `git status`
// the route wraps (same supervisor, same run); then a 50 MB diff capped at 1 MiB
// (time, and the gateway's RSS growth). Run: node --import tsx bench/git-routes.ts [--runs 30]
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createGitFixture } from '../main/git/testing/fixture.js';
import { startTestGateway } from '../main/gateway/testing.js';
import { numberOption, percentile, printReport, round, smoke } from './support.js';

const runs = numberOption('runs', 30, 3);
const files = smoke ? 50 : 2000;
const hugeLines = smoke ? 20_000 : 500_000;
const figures: Record<string, unknown> = { runs, files };

async function measure(key: string, label: string, once: () => Promise<{ status?: number } | unknown>): Promise<void> {
  await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const reply = await once();
    const status = (reply as { status?: number }).status;
    if (status !== undefined && status !== 200) throw new Error(`${label}: status ${status}`);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const [p50, p95] = [round(percentile(samples, 50), 1), round(percentile(samples, 95), 1)];
  console.log(`${label.padEnd(34)} p50 ${String(p50).padStart(6)} ms   p95 ${String(p95).padStart(6)} ms`);
  figures[key] = { p50Ms: p50, p95Ms: p95 };
}

const fx = await createGitFixture();
try {
  for (let i = 0; i < files; i++) await writeFile(path.join(fx.repo, `file-${i}.txt`), `line ${i}\n`);
  await fx.sh(fx.repo, 'add', '.');
  await fx.sh(fx.repo, 'commit', '--quiet', '-m', `${files} files`);
  for (let i = 0; i < files / 10; i++) await writeFile(path.join(fx.repo, `file-${i}.txt`), `changed ${i}\n`);

  const gw = await startTestGateway({ configure: (services) => services.setWorkspaceRoot(fx.root).then(() => undefined) });
  try {
    const post = (route: string, json: unknown) => gw.request(`/api/gateway/${route}`, { method: 'POST', json, auth: 'token' });
    await measure('gitStatusDirect', 'git status (supervisor, no HTTP)', () => gw.services.supervisor.run('git', ['status', '--porcelain=v2', '--branch', '-z'], { cwd: fx.repo }));
    await measure('postGitStatus', `POST /git status (${files / 10} changed)`, () => post('git', { action: 'status', repoPath: fx.repo }));
    await measure('getGitBranches', 'GET /git/branches', () => gw.request(`/api/gateway/git/branches?repo=${encodeURIComponent(fx.repo)}`, { auth: 'token' }));
    await measure('postGitDiff', `POST /git/diff (${files / 10} files)`, () => post('git/diff', { repoPath: fx.repo }));

    await writeFile(path.join(fx.repo, 'huge.txt'), `${'x'.repeat(99)}\n`.repeat(hugeLines));
    await fx.sh(fx.repo, 'add', 'huge.txt');
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const diff = await post('git/diff', { repoPath: fx.repo, maxBytes: 1024 * 1024 });
    const elapsed = performance.now() - started;
    const grown = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    const megabytes = Math.round((hugeLines * 100) / 1e6);
    console.log(`${megabytes} MB diff, cap 1 MiB: ${elapsed.toFixed(0)} ms, truncated=${diff.json.truncated}, ${(diff.text.length / 1024).toFixed(0)} KiB reply, RSS +${grown.toFixed(1)} MiB`);
    figures.hugeDiff = { megabytes, ms: Math.round(elapsed), truncated: diff.json.truncated, replyKiB: Math.round(diff.text.length / 1024), rssGrowthMiB: round(grown, 1) };
    printReport('git-routes', figures);
  } finally {
    await gw.close();
  }
} finally {
  await fx.close();
}
