import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quitRunsAnswer, quitRunsPlan } from './quit-runs.js';

test('quitting asks only when runs are live and no choice is remembered', () => {
  assert.deepEqual(quitRunsPlan(0, null), { ask: false, stopRuns: false });
  assert.deepEqual(quitRunsPlan(0, 'stop'), { ask: false, stopRuns: false }, 'nothing to stop');
  assert.deepEqual(quitRunsPlan(2, 'keep'), { ask: false, stopRuns: false });
  assert.deepEqual(quitRunsPlan(2, 'stop'), { ask: false, stopRuns: true });
  const asked = quitRunsPlan(2, 'garbage');
  assert.equal(asked.ask, true);
  if (!asked.ask) return;
  assert.match(asked.dialog.message, /^2 ticket runs are still working/);
  assert.equal(asked.dialog.buttons[asked.dialog.defaultId], 'Keep running in the background', 'the default keeps them (as headless serve does)');
  assert.equal(asked.dialog.buttons[asked.dialog.cancelId], 'Cancel');
  const one = quitRunsPlan(1, undefined);
  assert.ok(one.ask && /^A ticket run is still working\. Keep it/.test(one.dialog.message));
});

test("the dialog's answer: keep, stop or cancel, remembered only when asked and not cancelled", () => {
  assert.deepEqual(quitRunsAnswer(0, false), { choice: 'keep', remember: false });
  assert.deepEqual(quitRunsAnswer(1, true), { choice: 'stop', remember: true });
  assert.deepEqual(quitRunsAnswer(2, true), { choice: 'cancel', remember: false });
});
