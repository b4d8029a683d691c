// A promise rejected with nobody listening, inside a request, is logged with that
// request's id and the process goes on (a real child process, Node's default handling).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const SCRIPT = `
  const { pino } = await import('pino');
  const { guardProcess, withRequestId } = await import(${JSON.stringify(join(import.meta.dirname, 'process-guard.ts'))});
  guardProcess(pino(pino.destination(1)));
  withRequestId('req-42', () => { setTimeout(() => { Promise.reject(new Error('left behind')); }, 5); });
  setTimeout(() => { console.log(JSON.stringify({ alive: true })); }, 100);
`;

describe('guardProcess', () => {
  it('logs an unhandled rejection with its request id and keeps the process alive', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    const logged = lines.find((line) => line.err);
    assert.equal(logged.requestId, 'req-42');
    assert.equal(logged.err.message, 'left behind');
    assert.deepEqual(lines.at(-1), { alive: true });
  });
});
