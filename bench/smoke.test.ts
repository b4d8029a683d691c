// `npm run bench:smoke` (and every `npm test`): each benchmark in bench/ runs at a tiny size
// and must close with a `BENCH {json}` line holding real numbers: no null or NaN figure, no
// failed request or stream. A benchmark that rots fails CI instead of printing nulls.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const BENCH = import.meta.dirname;
const ROOT = join(BENCH, '..');
/** Modules the benchmarks use, not benchmarks themselves. */
const NOT_BENCHMARKS = new Set(['support.ts', 'load.ts', 'baselines.ts']);
/** Figures that may be null by design (the allocation window saw a collection: said, not guessed). */
const MAY_BE_NULL = new Set(['bytesPerRequest', 'token', 'session']);
const COUNTS_OF_FAILURE = new Set(['errors', 'failedStreams', 'orphansLeft', 'failed']);

const benchmarks = readdirSync(BENCH).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts') && !NOT_BENCHMARKS.has(name));

function runSmoke(script: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH, script), '--smoke'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

/** Every leaf of the report, with its dotted path. */
function leaves(value: unknown, path = ''): Array<[string, unknown]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([key, inner]) => leaves(inner, path ? `${path}.${key}` : key));
  }
  return [[path, value]];
}

describe('benchmarks at smoke size', () => {
  for (const script of benchmarks) {
    const needsBuild = script === 'gateway.ts' && !existsSync(join(ROOT, 'dist', 'main', 'cli.js'));
    test(script, { timeout: 180_000, skip: needsBuild && 'gateway.ts measures dist/: run `npm run build` first' }, async () => {
      const { code, out, err } = await runSmoke(script);
      assert.equal(code, 0, `${script} exited ${code}:\n${err.slice(-2000)}`);
      const line = out.split('\n').reverse().find((l) => l.startsWith('BENCH '));
      assert.ok(line, `${script} printed no BENCH line:\n${out.slice(-1000)}`);
      const report = JSON.parse(line.slice('BENCH '.length)) as Record<string, unknown>;
      assert.equal(report.smoke, true);
      for (const [path, value] of leaves(report)) {
        const key = path.split('.').at(-1)!;
        if (value === null) assert.ok(MAY_BE_NULL.has(key), `${script}: ${path} is null`);
        if (typeof value === 'number') assert.ok(Number.isFinite(value), `${script}: ${path} is ${value}`);
        if (COUNTS_OF_FAILURE.has(key)) assert.equal(value, 0, `${script}: ${path} = ${String(value)}`);
      }
    });
  }
});
