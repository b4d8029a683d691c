// Types of test-report.js (plain Node ESM, so `npm test` needs no TypeScript loader).
export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** One line per failed test: its name and place. */
  failures: string[];
  /** Skip reason → names of the tests skipped for it. */
  skipReasons: Map<string, string[]>;
  exitCode: number;
}

export function emptyCounts(): TestCounts;
export function parseTap(tap: string, root: string): TestCounts;
export function parsePlaywrightReport(report: unknown): Omit<TestCounts, 'exitCode'>;
