// A child the OS refuses to start: the reply and the log say what the OS said (issue 9:
// "Could not start codex" used to come with no cause).
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isAppError } from '../errors.js';
import { Supervisor } from './supervisor.js';
import { capturingLogger, tempDir } from './test-support.js';

async function refusal(supervisor: Supervisor, command: string, env?: Record<string, string>) {
  const error: unknown = await supervisor
    .start({ command, args: [], cwd: process.cwd(), stdin: 'ignore', label: 'refused', env })
    .then(() => assert.fail(`${command} started`), (e: unknown) => e);
  assert.ok(isAppError(error), String(error));
  return error;
}

for (const [cause, setup] of [
  ['ENOENT', () => ({ command: '/nonexistent-symphony-dir/agent' })],
  ['EACCES', (dir: string) => {
    const file = join(dir, 'not-executable');
    writeFileSync(file, '#!/bin/sh\necho hi\n');
    chmodSync(file, 0o644);
    return { command: file };
  }],
  ['E2BIG', () => ({ command: '/bin/sh', env: { HUGE_SETTING: 'x'.repeat(3_000_000) } })],
] as const) {
  test(`a spawn that fails with ${cause} answers 424 spawn_failed naming ${cause}, and logs it`, async (t) => {
    const { log, lines } = capturingLogger();
    const { command, env } = setup(tempDir(t)) as { command: string; env?: Record<string, string> };
    const error = await refusal(new Supervisor({ log }), command, env);
    assert.equal(error.status, 424);
    assert.equal(error.code, 'spawn_failed');
    assert.match(error.message, new RegExp(`Could not start .*${cause}`));
    assert.deepEqual((error.details as { cause: string }).cause, cause);
    const logged = lines().find((line) => line.msg === 'a child could not be started');
    assert.equal(logged?.cause, cause);
    assert.doesNotMatch(JSON.stringify(lines()), /xxxxxxxxxx/, 'the environment is not logged');
  });
}
