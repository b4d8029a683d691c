// Following the gateway's log across rotations: lines written just before the file is
// renamed (the log rotation renames gateway.log to gateway.log.1 and begins a new one)
// are read from the old file before the new one, in order, none lost or repeated.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { followLogFile } from './logs.js';

const dir = mkdtempSync(join(tmpdir(), 'follow-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const stops: AbortController[] = [];
after(() => stops.forEach((stop) => stop.abort()));

function follow(file: string, pollMs: number) {
  const seen: string[] = [];
  const stop = new AbortController();
  stops.push(stop);
  const done = followLogFile(file, (line) => seen.push(line), stop.signal, pollMs);
  return { seen, stop: () => (stop.abort(), done) };
}

test('lines written just before a rotation are not lost, even when the new file is already longer', async () => {
  const file = join(dir, 'gateway.log');
  writeFileSync(file, 'old-0 written before we started\n');
  const f = follow(file, 300);
  await new Promise((resolve) => setTimeout(resolve, 100));
  appendFileSync(file, 'old-1\n');
  await until(() => f.seen.includes('old-1'), 'old-1');
  // Within one poll: the last lines go to the old file, it is renamed, and the new one gets more than the old had left.
  appendFileSync(file, 'old-2 just before the rotation\nold-3\n');
  renameSync(file, `${file}.1`);
  writeFileSync(file, `new-1 ${'x'.repeat(200)}\nnew-2\n`);
  await until(() => f.seen.includes('new-2'), 'new-2');
  appendFileSync(file, 'new-3\n');
  await until(() => f.seen.includes('new-3'), 'new-3');
  await f.stop();
  assert.deepEqual(f.seen.map((line) => line.split(' ')[0]), ['old-1', 'old-2', 'old-3', 'new-1', 'new-2', 'new-3']);
});

test('a file that does not exist yet is read from its start when it appears; a truncated one again from its start', async () => {
  const file = join(dir, 'later.log');
  const f = follow(file, 50);
  await new Promise((resolve) => setTimeout(resolve, 100));
  writeFileSync(file, 'the first line, a long one\n');
  await until(() => f.seen.length === 1, 'the first line');
  truncateSync(file, 0);
  appendFileSync(file, 'short\n');
  await until(() => f.seen.length === 2, 'the line after the truncation');
  await f.stop();
  assert.deepEqual(f.seen, ['the first line, a long one', 'short']);
});
