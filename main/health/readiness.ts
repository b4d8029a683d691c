// The web client's readiness check (GET /api/gateway/health-check): a list of rows, each
// a small check that runs concurrently with the others under its own timeout, so the
// whole reply stays well under the client's 5 s budget. A row is one entry in the list
// handed to Readiness (see checks.ts); adding a row is adding an entry.
import type { z } from 'zod';
import type { HealthCheckResponse, ReadinessRow } from '../../shared/schemas/gateway.js';
import { readMcpServers, type McpHomes } from './mcp.js';

export type Row = z.infer<typeof ReadinessRow>;
export type Readiness = z.infer<typeof HealthCheckResponse>;

export interface ReadinessQuery {
  expectedMcpUrl?: string;
  latestVersion?: string;
}

/** What a check reports; id, label and required come from its definition. */
export type RowResult = Omit<Row, 'id' | 'label' | 'required'>;

export interface ReadinessCheck {
  id: string;
  label: string;
  required: boolean;
  /** Left out of the reply when this says so (e.g. `app-version` without `latestVersion`). */
  applies?: (query: ReadinessQuery) => boolean;
  run: (query: ReadinessQuery, signal: AbortSignal) => Promise<RowResult>;
}

export const ROW_TIMEOUT_MS = 3_000;

export class ReadinessService {
  constructor(
    private readonly checks: readonly ReadinessCheck[],
    private readonly mcpHomes: () => McpHomes,
    private readonly timeoutMs = ROW_TIMEOUT_MS,
  ) {}

  async check(query: ReadinessQuery): Promise<Readiness> {
    const applicable = this.checks.filter((check) => check.applies?.(query) ?? true);
    const [checks, mcpServers] = await Promise.all([
      Promise.all(applicable.map((check) => this.runOne(check, query))),
      readMcpServers(this.mcpHomes(), query.expectedMcpUrl),
    ]);
    return { checks, allRequiredPassed: checks.every((row) => row.passed || !row.required), mcpServers };
  }

  private async runOne(check: ReadinessCheck, query: ReadinessQuery): Promise<Row> {
    const head = { id: check.id, label: check.label, required: check.required };
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<RowResult>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({ passed: false, error: `The ${check.label} check did not finish within ${this.timeoutMs / 1000} s.` });
      }, this.timeoutMs);
    });
    try {
      return { ...head, ...dropUndefined(await Promise.race([check.run(query, controller.signal), timeout])) };
    } catch (error) {
      return { ...head, passed: false, error: `The ${check.label} check failed: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The client's schema rejects `null` for optional fields: leave them out instead. */
function dropUndefined(result: RowResult): RowResult {
  return Object.fromEntries(Object.entries(result).filter(([, value]) => value !== undefined && value !== null)) as RowResult;
}

/** Memoizes an async probe for `ttlMs` per key (tool versions: a `--version` costs a process). */
export function memoize<T>(ttlMs: number): (key: string, probe: () => Promise<T>) => Promise<T> {
  const cache = new Map<string, { at: number; value: Promise<T> }>();
  return (key, probe) => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value;
    const value = probe();
    cache.set(key, { at: Date.now(), value });
    // A failed probe is not remembered.
    value.catch(() => cache.delete(key));
    return value;
  };
}
