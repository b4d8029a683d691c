// File search benchmark: a generated git repository of 100,000 tracked files (plus
// untracked and ignored ones), searched through the real FileSearch service, and the
// same queries through `git ls-files | fzf --filter` (Debian's fzf) in the same run.
//
//   node --import tsx bench/file-search.ts [--files 100000] [--queries 200] [--repo DIR]
// --repo DIR keeps the generated repository there (and reuses it on the next run).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileSearch } from '../main/files/search.js';
import { GitRunner } from '../main/git/runner.js';
import { WorkspaceGuard } from '../main/files/workspace.js';
import { openDatabase } from '../main/store/database.js';
import { SettingsStore } from '../main/store/settings.js';
import { Supervisor } from '../main/supervisor/supervisor.js';
import { numberOption, printReport, round } from './support.js';

const FILES = numberOption('files', 100_000, 2_000);
const QUERIES = numberOption('queries', 200, 10);
const KEPT_REPO = stringArg('--repo');
const LIMIT = 50;

const WORDS = (
  'account action adapter admin alert analytics api app archive asset audit auth avatar badge banner billing ' +
  'blob board branch breadcrumb browser bucket buffer build button cache calendar campaign canvas card cart ' +
  'catalog channel chart chat checkout client clock cluster code collection color column command comment ' +
  'commit config connection console contact container content context controller cookie core coupon cron ' +
  'cursor customer dashboard data database date debug deploy device dialog diff directory dispatch docs ' +
  'document domain download draft driver editor email embed engine entity error event export factory feature ' +
  'feed field file filter flag folder font footer form format frame gateway graph grid group guard handler ' +
  'header health helper history hook host icon image import index input invoice issue item job kernel key ' +
  'label layout ledger lib link list loader locale lock log login mail manager map market media menu merge ' +
  'message metric middleware migration mock modal model module monitor network node notification order ' +
  'package page panel parser partner password payment permission pipeline plan player plugin policy pool ' +
  'popup post preview price printer profile project provider proxy query queue quota range rate reader ' +
  'record redirect registry release render report repository request resolver resource response result ' +
  'review role route router rule runner sandbox scheduler schema scope screen script search secret section ' +
  'selector server service session setting shard shipping sidebar signal sitemap slider snapshot socket sort ' +
  'source spec stack state status storage store stream style subscription suggestion summary support switch ' +
  'sync table tab tag task team template tenant test theme thread ticket timeline timer toast token tool ' +
  'tooltip topic tracker transaction transform tree trigger upload user util validator value vault vendor ' +
  'version video view viewer wallet webhook widget window worker workflow workspace'
).split(' ');
const EXTENSIONS = ['.ts', '.tsx', '.ts', '.js', '.json', '.md', '.test.ts', '.css', '.go', '.py', '.rs', '.yml'];

// A seeded generator: the same repository and queries on every run.
let seed = 42;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
const capital = (word: string) => word[0].toUpperCase() + word.slice(1);

function fileName(): string {
  const style = random();
  const words = [pick(WORDS), pick(WORDS), ...(random() < 0.3 ? [pick(WORDS)] : [])];
  const stem = style < 0.4 ? words.map(capital).join('') : style < 0.7 ? words.join('-') : words.join('_');
  return stem + pick(EXTENSIONS);
}

/** packages/<pkg>/src/<area>/.../<name>: about 12 files per folder, 2-6 levels deep. */
function generatePaths(count: number): string[] {
  const dirs: string[] = [];
  for (let d = 0; d < Math.ceil(count / 12); d++) {
    const depth = 1 + Math.floor(random() * 4);
    const top = random() < 0.7 ? `packages/${pick(WORDS)}-${pick(WORDS)}/src` : pick(['apps', 'services', 'tools', 'docs']);
    dirs.push([top, ...Array.from({ length: depth }, () => pick(WORDS))].join('/'));
  }
  const seen = new Set<string>();
  while (seen.size < count) seen.add(`${pick(dirs)}/${fileName()}`);
  return [...seen];
}

function writeTree(root: string, files: readonly string[]): void {
  const made = new Set<string>();
  for (const file of files) {
    const dir = path.dirname(file);
    if (!made.has(dir)) {
      mkdirSync(path.join(root, dir), { recursive: true });
      made.add(dir);
    }
    writeFileSync(path.join(root, file), '');
  }
}

/** Queries a person would type: name fragments, initials, folder+name, a few typos and one-letter ones. */
function generateQueries(files: readonly string[], count: number): string[] {
  const queries: string[] = [];
  while (queries.length < count) {
    const file = pick(files);
    const name = path.basename(file);
    const kind = random();
    if (kind < 0.3) {
      const start = Math.floor(random() * Math.max(1, name.length - 4));
      queries.push(name.slice(start, start + 3 + Math.floor(random() * 6)));
    } else if (kind < 0.5) {
      queries.push(subsequence(name, 3 + Math.floor(random() * 5)));
    } else if (kind < 0.65) {
      const parts = file.split('/');
      queries.push(`${pick(parts.slice(0, -1)).slice(0, 4)} ${name.slice(0, 5)}`);
    } else if (kind < 0.8) {
      queries.push(subsequence(file, 4 + Math.floor(random() * 8)));
    } else if (kind < 0.9) {
      queries.push(name.replace(/\..*$/, ''));
    } else if (kind < 0.95) {
      queries.push(pick('abcdefghijklmnopqrstuvwxyz'.split('')) + (random() < 0.5 ? pick('aeiou'.split('')) : ''));
    } else {
      queries.push(`${pick(WORDS)}zq${pick(WORDS)}`); // matches nothing
    }
  }
  return queries.map((q) => q.replace(/[^A-Za-z0-9._/ -]/g, '').trim() || 'a');
}

function subsequence(text: string, length: number): string {
  const picked = Array.from(text)
    .map((char, index) => ({ char, index, keep: random() }))
    .sort((a, b) => a.keep - b.keep)
    .slice(0, length)
    .sort((a, b) => a.index - b.index);
  return picked.map((p) => p.char).join('');
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const summary = (values: readonly number[]) =>
  `min ${Math.min(...values).toFixed(1)} ms, p50 ${percentile(values, 50).toFixed(1)} ms, p90 ${percentile(values, 90).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** CPU time of finished children (Linux /proc: cutime + cstime, 100 ticks a second); NaN elsewhere. */
function childrenCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
}

function stringArg(flag: string): string | undefined {
  const at = process.argv.indexOf(flag);
  return at === -1 ? undefined : process.argv[at + 1];
}


/** Writes and commits the repository, unless a kept one is there; returns its tracked files. */
async function prepareRepository(repo: string, run: (command: string, args: string[]) => Promise<string>): Promise<string[]> {
  if (existsSync(path.join(repo, '.git'))) {
    console.log(`reusing the repository in ${repo}`);
    return (await run('git', ['ls-files', '-z'])).split('\0').filter((f) => f !== '' && f !== '.gitignore');
  }
  const t = performance.now();
  const files = generatePaths(FILES);
  mkdirSync(repo, { recursive: true });
  writeTree(repo, files);
  writeFileSync(path.join(repo, '.gitignore'), 'node_modules/\n*.log\n');
  await run('git', ['init', '-q', '-b', 'main']);
  await run('git', ['add', '-A']);
  // No automatic gc: with ~30,000 new tree objects the commit would start `git gc --auto` in
  // the background, and its repack would share the cores with the queries measured below.
  await run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.test', '-c', 'gc.auto=0', 'commit', '-q', '-m', 'generated']);
  // Packed now, in the foreground, as a reused (or any long-lived) repository is.
  await run('git', ['gc', '--quiet']);
  // What a working copy also holds: ignored dependencies (must not appear) and new files (must).
  writeTree(repo, Array.from({ length: 2000 }, (_, i) => `node_modules/dep${i % 50}/lib/file${i}.js`));
  writeTree(repo, Array.from({ length: 200 }, (_, i) => `scratch/untracked-note-${i}.md`));
  console.log(
    `repository: ${files.length} tracked + 200 untracked + 2000 ignored files, written, committed and packed in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  return files;
}

async function main(): Promise<void> {
  const supervisor = new Supervisor();
  const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'bench-file-search-')));
  const repo = KEPT_REPO ? path.resolve(KEPT_REPO) : path.join(base, 'repo');
  const db = openDatabase(path.join(base, 'bench.db'));
  let search: FileSearch | null = null;
  const run = async (command: string, args: string[]) => {
    const result = await supervisor.run(command, args, { cwd: repo, timeoutMs: 300_000, maxBuffer: 256 * 1024 * 1024 });
    // fzf --filter exits 1 when nothing matches: that is an answer, not a failure.
    if (result.exitCode !== 0 && !(command === 'sh' && result.exitCode === 1)) {
      throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
    }
    return result.stdout;
  };
  try {
    console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const files = (await prepareRepository(repo, run)).sort();
    seed = 4242; // the same queries for the same files, fresh or reused
    let t: number;

    const guard = new WorkspaceGuard({ settings: new SettingsStore(db), listRepoRoots: () => [] });
    await guard.setWorkspaceRoot(path.dirname(repo));
    search = new FileSearch({ git: new GitRunner(supervisor), guard });
    const queries = generateQueries(files, QUERIES);
    const rssBefore = process.memoryUsage().rss;

    t = performance.now();
    const cold = await search.search({ repo, query: queries[0], limit: LIMIT });
    const coldMs = performance.now() - t;

    const warm: number[] = [];
    const warmCpu: number[] = [];
    const ours: string[][] = [];
    for (const query of queries) {
      t = performance.now();
      const cpu = process.cpuUsage();
      const result = await search.search({ repo, query, limit: LIMIT });
      warm.push(performance.now() - t);
      const used = process.cpuUsage(cpu);
      warmCpu.push((used.user + used.system) / 1000);
      ours.push(result.files);
    }
    // A picker asks on every keystroke: type 30 of the queries one character at a time.
    const keystrokes: number[] = [];
    for (const query of queries.filter((q) => q.length >= 4).slice(0, 30)) {
      for (let end = 1; end <= query.length; end++) {
        t = performance.now();
        await search.search({ repo, query: query.slice(0, end), limit: LIMIT });
        keystrokes.push(performance.now() - t);
      }
    }
    const memory = process.memoryUsage();
    console.log(`cold first query (git ls-files + index build + query): ${coldMs.toFixed(0)} ms, ${cold.total} files matched`);
    console.log(`warm queries (${queries.length}, limit ${LIMIT}, through FileSearch.search): ${summary(warm)}`);
    console.log(`  CPU time of those queries (what an idle core would take): ${summary(warmCpu)}, mean ${mean(warmCpu).toFixed(1)} ms`);
    console.log(`typing 30 queries a character at a time (${keystrokes.length} keystrokes): ${summary(keystrokes)}`);
    const slowest = queries.map((query, k) => ({ query, ms: warm[k] })).sort((a, b) => b.ms - a.ms).slice(0, 5);
    console.log(`slowest warm queries: ${slowest.map((s) => `${JSON.stringify(s.query)} ${s.ms.toFixed(1)} ms`).join(', ')}`);
    console.log(
      `process RSS with the index loaded: ${mb(memory.rss)} (before the index: ${mb(rssBefore)}; heap ${mb(memory.heapUsed)}, array buffers ${mb(memory.arrayBuffers)})`,
    );

    const listing = path.join(base, 'listing.txt');
    t = performance.now();
    writeFileSync(listing, await run('git', ['ls-files', '--cached', '--others', '--exclude-standard']));
    console.log(`git ls-files --cached --others --exclude-standard alone: ${(performance.now() - t).toFixed(0)} ms`);
    const fzfPipeline: number[] = [];
    const fzfAlone: number[] = [];
    let pipelineCpu = 0;
    let aloneCpu = 0;
    let agreeTop1 = 0;
    let comparable = 0;
    for (const [k, query] of queries.entries()) {
      t = performance.now();
      let cpu = childrenCpuMs();
      await run('sh', ['-c', 'git ls-files --cached --others --exclude-standard | fzf --filter "$1" | head -n 50', 'sh', query]);
      fzfPipeline.push(performance.now() - t);
      pipelineCpu += childrenCpuMs() - cpu;
      t = performance.now();
      cpu = childrenCpuMs();
      const out = await run('sh', ['-c', 'fzf --filter "$1" < "$2" | head -n 50', 'sh', query, listing]);
      fzfAlone.push(performance.now() - t);
      aloneCpu += childrenCpuMs() - cpu;
      const theirs = out.split('\n').filter(Boolean);
      if (theirs.length > 0 && ours[k].length > 0) {
        comparable++;
        if (theirs.slice(0, 10).includes(ours[k][0])) agreeTop1++;
      }
    }

    const perQuery = (total: number) => (Number.isNaN(total) ? 'n/a' : `${(total / queries.length).toFixed(1)} ms`);
    console.log(`git ls-files | fzf --filter (same queries):          ${summary(fzfPipeline)}; CPU mean ${perQuery(pipelineCpu)}`);
    console.log(`fzf --filter < file list (no git):                   ${summary(fzfAlone)}; CPU mean ${perQuery(aloneCpu)}`);
    console.log(`our top hit is in fzf's top 10 for ${agreeTop1}/${comparable} queries that both answer`);
    console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const p50 = (values: readonly number[]) => round(percentile(values, 50), 1);
    printReport('file-search', {
      files: FILES, queries: QUERIES, coldFirstQueryMs: Math.round(coldMs),
      warmMs: { p50: p50(warm), p99: round(percentile(warm, 99), 1) }, warmCpuMeanMs: round(mean(warmCpu), 1),
      keystrokeP50Ms: p50(keystrokes), fzfPipelineP50Ms: p50(fzfPipeline), fzfOnListingP50Ms: p50(fzfAlone),
      rssWithIndexMb: Math.round(memory.rss / 1024 / 1024), topHitAgreement: `${agreeTop1}/${comparable}`,
    });
  } finally {
    search?.close();
    db.close();
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
