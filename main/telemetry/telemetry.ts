// Local request telemetry: counts, errors and latency percentiles per operation.
// Nothing leaves the machine; the figures are served by the desktop-only /api/gateway/desktop/telemetry.

/** Latencies kept per operation; older samples fall out first (a ring). */
const SAMPLE_SIZE = 2048;

export interface OperationStats {
  count: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

class Series {
  count = 0;
  errors = 0;
  private readonly samples = new Float64Array(SAMPLE_SIZE);
  private next = 0;

  record(durationMs: number, failed: boolean): void {
    this.count++;
    if (failed) this.errors++;
    this.samples[this.next % SAMPLE_SIZE] = durationMs;
    this.next++;
  }

  stats(): OperationStats {
    const filled = Math.min(this.next, SAMPLE_SIZE);
    const sorted = Array.from(this.samples.subarray(0, filled)).sort((a, b) => a - b);
    const at = (q: number) => (filled ? round(sorted[Math.min(filled - 1, Math.floor(q * filled))]) : 0);
    return { count: this.count, errors: this.errors, p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99) };
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export class Telemetry {
  private readonly series = new Map<string, Series>();
  readonly startedAt = Date.now();

  record(operation: string, status: number, durationMs: number): void {
    let series = this.series.get(operation);
    if (!series) this.series.set(operation, (series = new Series()));
    series.record(durationMs, status >= 400);
  }

  snapshot(): Record<string, OperationStats> {
    return Object.fromEntries([...this.series].map(([operation, series]) => [operation, series.stats()]));
  }
}
