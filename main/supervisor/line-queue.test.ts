import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineQueue } from './line-queue.js';
import { LineSplitter } from './output.js';

const line = (n: number) => ({ stream: 'stdout' as const, line: String(n) });

test('an attached reader pushes back past the high-water mark and releases at half', async () => {
  const pauses: boolean[] = [];
  const queue = new LineQueue((paused) => pauses.push(paused), 10, 100);
  const reader = queue[Symbol.asyncIterator]();
  for (let i = 0; i < 10; i++) queue.push(line(i));
  assert.deepEqual(pauses, [true]);
  for (let i = 0; i < 4; i++) await reader.next();
  assert.deepEqual(pauses, [true]);
  assert.deepEqual((await reader.next()).value, line(4));
  assert.deepEqual(pauses, [true, false]);
});

test('without a reader nothing pauses and only the newest lines are kept', async () => {
  const pauses: boolean[] = [];
  const queue = new LineQueue((paused) => pauses.push(paused), 10, 100);
  for (let i = 0; i < 250; i++) queue.push(line(i));
  queue.end();
  const seen: string[] = [];
  for await (const entry of queue) seen.push(entry.line);
  assert.deepEqual(pauses, []);
  assert.equal(queue.dropped, 150);
  assert.equal(seen.length, 100);
  assert.equal(seen[0], '150');
});

test('unread lines are also capped by size', async () => {
  const queue = new LineQueue(() => undefined, 10, 100, 25);
  for (let i = 0; i < 5; i++) queue.push({ stream: 'stdout', line: 'x'.repeat(10) + i });
  queue.end();
  const seen: string[] = [];
  for await (const entry of queue) seen.push(entry.line);
  assert.deepEqual(seen, ['xxxxxxxxxx3', 'xxxxxxxxxx4']);
  assert.equal(queue.dropped, 3);
});

test('a reader that leaves releases the pipes; a second reader is refused', async () => {
  const pauses: boolean[] = [];
  const queue = new LineQueue((paused) => pauses.push(paused), 2, 100);
  const reader = queue[Symbol.asyncIterator]();
  queue.push(line(1));
  queue.push(line(2));
  await reader.return!();
  assert.deepEqual(pauses, [true, false]);
  assert.throws(() => queue[Symbol.asyncIterator](), /one reader/);
  queue.push(line(3));
  assert.deepEqual(await reader.next(), { value: undefined, done: true });
});

test('the splitter handles CRLF, split UTF-8, a missing final newline and overlong lines', () => {
  const lines: string[] = [];
  const splitter = new LineSplitter((text) => lines.push(text), 8);
  const euro = Buffer.from('€');
  splitter.push(Buffer.from('a\r\nb'));
  splitter.push(Buffer.concat([euro.subarray(0, 1)]));
  splitter.push(Buffer.concat([euro.subarray(1), Buffer.from('\n0123456789abc')]));
  splitter.end();
  assert.deepEqual(lines, ['a', 'b€', '01234567', '89abc']);
});
