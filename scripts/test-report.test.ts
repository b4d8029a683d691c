// The summary `npm test` prints is only as good as its reading of the reports: read
// real node:test TAP from a real run of fixture tests.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Supervisor } from '../main/supervisor/supervisor.js';
import { parsePlaywrightReport, parseTap } from './test-report.js';

const FIXTURE = `import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
test('passes', () => {});
test('skips', { skip: 'no widget here' }, () => {});
test('fails', () => assert.fail('boom'));
describe('group', () => {
  test('inner passes', () => {});
  test('inner fails', () => assert.equal(1, 2));
});
`;

test('TAP from a real node --test run: counts, each failure with its place, skip reasons', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'symphony-test-report-'));
  try {
    await writeFile(path.join(dir, 'a.test.mjs'), FIXTURE);
    await writeFile(path.join(dir, 'broken.test.mjs'), 'this is not javascript (');
    await writeFile(path.join(dir, 'slow.test.mjs'), 'await new Promise((resolve) => setTimeout(resolve, 20_000));');
    const run = await new Supervisor().run(
      process.execPath,
      ['--test', '--test-reporter=tap', '--test-timeout=3000', 'a.test.mjs', 'broken.test.mjs', 'slow.test.mjs'],
      { cwd: dir, timeoutMs: 60_000 },
    );
    assert.equal(run.exitCode, 1);
    const counts = parseTap(run.stdout, dir);
    assert.equal(counts.passed, 2);
    assert.equal(counts.failed, 4, 'the timed-out file counts as failed');
    assert.equal(counts.skipped, 1);
    assert.deepEqual(counts.failures, [
      'fails (a.test.mjs:5:1)',
      'inner fails (a.test.mjs:8:3)',
      'broken.test.mjs (failed outside its tests: see its output)',
      'slow.test.mjs (timed out)',
    ]);
    assert.deepEqual([...counts.skipReasons], [['no widget here', ['skips']]]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Playwright JSON: flaky counts as passed, failures and skip reasons are named', () => {
  const counts = parsePlaywrightReport({
    stats: { expected: 3, unexpected: 1, flaky: 1, skipped: 1 },
    suites: [
      {
        title: 'ui.spec.ts',
        specs: [{ title: 'pairs', ok: true, file: 'ui.spec.ts', line: 4, tests: [{ status: 'expected', annotations: [] }] }],
        suites: [
          {
            title: 'nested',
            specs: [
              { title: 'breaks', ok: false, file: 'ui.spec.ts', line: 20, tests: [{ status: 'unexpected', annotations: [] }] },
              {
                title: 'needs electron',
                ok: true,
                file: 'electron.spec.ts',
                line: 26,
                tests: [{ status: 'skipped', annotations: [{ type: 'skip', description: 'no Electron binary' }] }],
              },
            ],
          },
        ],
      },
    ],
  });
  assert.equal(counts.passed, 4);
  assert.equal(counts.failed, 1);
  assert.equal(counts.skipped, 1);
  assert.deepEqual(counts.failures, ['e2e: breaks (ui.spec.ts:20)']);
  assert.deepEqual([...counts.skipReasons], [['e2e (electron.spec.ts): no Electron binary', ['needs electron']]]);
});
