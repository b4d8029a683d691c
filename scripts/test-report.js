// Reading test results: node:test's TAP and Playwright's JSON report, summed into
// one shape for scripts/test.js (passed, failed, skipped, each failure, each skip reason).
import path from 'node:path';

export function emptyCounts() {
  return { passed: 0, failed: 0, skipped: 0, failures: [], skipReasons: new Map(), exitCode: 0 };
}

/** Totals from node:test's TAP, plus each failed test and each skip reason. */
export function parseTap(tap, root) {
  const counts = emptyCounts();
  const total = (name) => Number(tap.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0);
  counts.passed = total('pass');
  counts.failed = total('fail') + total('cancelled');
  counts.skipped = total('skipped');
  let current = null;
  const finish = () => {
    if (current?.failed && current.type !== 'suite') {
      // A whole file that failed (it did not load, exited early, or timed out) is named by its path.
      const file = path.isAbsolute(current.name) ? path.relative(root, current.name) : null;
      const why = current.failureType === 'testTimeoutFailure' ? 'timed out' : 'failed outside its tests: see its output';
      counts.failures.push(file ? `${file} (${why})` : `${current.name} (${current.location ?? '?'})`);
    }
    current = null;
  };
  for (const line of tap.split('\n')) {
    const result = line.match(/^\s*(not ok|ok) \d+ - (.*?)(?: # SKIP(?: (.*))?)?$/);
    if (result) {
      finish();
      current = { name: result[2], failed: result[1] === 'not ok' };
      if (line.includes(' # SKIP')) {
        const reason = result[3] ?? 'no reason given';
        counts.skipReasons.set(reason, [...(counts.skipReasons.get(reason) ?? []), result[2]]);
      }
      continue;
    }
    const field = current && line.match(/^\s*(location|type|failureType): '?(.*?)'?$/);
    if (field) current[field[1]] = field[1] === 'location' ? path.relative(root, field[2]) : field[2];
  }
  finish();
  return counts;
}

/** Totals from Playwright's JSON reporter (flaky tests passed on a retry), with failures and skip reasons. */
export function parsePlaywrightReport(report) {
  const stats = report.stats ?? {};
  const failures = [];
  const skipReasons = new Map();
  const visit = (suite) => {
    for (const spec of suite.specs ?? []) {
      if (!spec.ok) failures.push(`e2e: ${spec.title} (${spec.file}:${spec.line})`);
      for (const t of spec.tests ?? []) {
        if (t.status !== 'skipped') continue;
        const why = t.annotations?.find((a) => a.type === 'skip')?.description || 'no reason given';
        const reason = `e2e (${spec.file}): ${why}`;
        skipReasons.set(reason, [...(skipReasons.get(reason) ?? []), spec.title]);
      }
    }
    for (const child of suite.suites ?? []) visit(child);
  };
  for (const suite of report.suites ?? []) visit(suite);
  return {
    passed: (stats.expected ?? 0) + (stats.flaky ?? 0),
    failed: stats.unexpected ?? 0,
    skipped: stats.skipped ?? 0,
    failures,
    skipReasons,
  };
}
