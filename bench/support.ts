// What every benchmark shares: the `--smoke` switch (tiny sizes, seconds, for CI), the
// load average printed beside each figure, and one machine-readable closing line
// (`BENCH {json}`) that bench/smoke.test.ts checks for real numbers.
import { loadavg } from 'node:os';

/** Run at a tiny size: proves the benchmark still works, measures nothing worth quoting. */
export const smoke = process.argv.includes('--smoke');

/** `--name N` from argv, else the full-size default, else (under --smoke) the tiny one. */
export function numberOption(name: string, fullSize: number, smokeSize = fullSize): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at !== -1) return Number(process.argv[at + 1]);
  return smoke ? smokeSize : fullSize;
}

/** `--name 1,2,3` from argv, else the full-size list, else (under --smoke) the tiny one. */
export function listOption(name: string, fullSize: number[], smokeSize = fullSize): number[] {
  const at = process.argv.indexOf(`--${name}`);
  if (at !== -1) return process.argv[at + 1].split(',').map(Number);
  return smoke ? smokeSize : fullSize;
}

/** The 1-minute load average now, printed beside a figure. */
export function loadNow(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}

export function loadAverage(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' ');
}

/** Prints the figures as the closing `BENCH` line, with the load average at the end of the run. */
export function printReport(name: string, figures: Record<string, unknown>): void {
  console.log(`BENCH ${JSON.stringify({ bench: name, smoke, loadAverage: loadAverage(), ...figures })}`);
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
