// git routes benchmark: sequential latency of POST /git status, GET /git/branches and
// POST /git/diff over HTTP on a 2,000-file repository, against the bare `git status`
// the route wraps (same supervisor, same run); then a 50 MB diff capped at 1 MiB
// (time, and the gateway's RSS growth). Run: node --import tsx bench/git-routes.ts [--runs 30]
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createGitFixture } from '../main/git/testing/fixture.js';
import { startTestGateway } from '../main/gateway/testing.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(values.runs);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(label: string, once: () => Promise<unknown>): Promise<void> {
  await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await once();
    samples.push(performance.now() - started);
  }
  console.log(`${label.padEnd(34)} p50 ${percentile(samples, 50).toFixed(1).padStart(6)} ms   p95 ${percentile(samples, 95).toFixed(1).padStart(6)} ms`);
}

const fx = await createGitFixture();
try {
  for (let i = 0; i < 2000; i++) await writeFile(path.join(fx.repo, `file-${i}.txt`), `line ${i}\n`);
  await fx.sh(fx.repo, 'add', '.');
  await fx.sh(fx.repo, 'commit', '--quiet', '-m', '2000 files');
  for (let i = 0; i < 200; i++) await writeFile(path.join(fx.repo, `file-${i}.txt`), `changed ${i}\n`);

  const gw = await startTestGateway({ configure: (services) => services.setWorkspaceRoot(fx.root).then(() => undefined) });
  try {
    const post = (route: string, json: unknown) => gw.request(`/api/gateway/${route}`, { method: 'POST', json, auth: 'token' });
    await measure('git status (supervisor, no HTTP)', () => gw.services.supervisor.run('git', ['status', '--porcelain=v2', '--branch', '-z'], { cwd: fx.repo }));
    await measure('POST /git status (200 changed)', () => post('git', { action: 'status', repoPath: fx.repo }));
    await measure('GET /git/branches', () => gw.request(`/api/gateway/git/branches?repo=${encodeURIComponent(fx.repo)}`, { auth: 'token' }));
    await measure('POST /git/diff (200 files)', () => post('git/diff', { repoPath: fx.repo }));

    await writeFile(path.join(fx.repo, 'huge.txt'), `${'x'.repeat(99)}\n`.repeat(500_000));
    await fx.sh(fx.repo, 'add', 'huge.txt');
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const diff = await post('git/diff', { repoPath: fx.repo, maxBytes: 1024 * 1024 });
    const elapsed = performance.now() - started;
    const grown = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    console.log(`50 MB diff, cap 1 MiB: ${elapsed.toFixed(0)} ms, truncated=${diff.json.truncated}, ${(diff.text.length / 1024).toFixed(0)} KiB reply, RSS +${grown.toFixed(1)} MiB`);
  } finally {
    await gw.close();
  }
} finally {
  await fx.close();
}
