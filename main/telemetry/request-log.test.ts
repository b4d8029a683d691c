import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { requestLogger, type RequestRecord } from './request-log.js';

function capture(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, log: pino({ level }, stream) };
}

const record: RequestRecord = {
  requestId: 'abc-1', operation: 'health_check', callerKind: 'origin', origin: 'https://x.test/"\n{', method: 'GET',
  route: '/api/gateway/version', status: 200, durationMs: 0.42,
};

/** A destination that takes bytes, as the gateway's log files do (log-files.ts). */
function captureBytes(level = 'info') {
  const lines: string[] = [];
  const stream = {
    write: (line: string) => void lines.push(`string:${line}`),
    writeBytes: (bytes: Uint8Array, length: number) => void lines.push(Buffer.from(bytes.subarray(0, length)).toString()),
  };
  return { lines, log: pino({ level }, stream) };
}

describe('requestLogger', () => {
  it('encodes the same line into a destination that takes bytes: numbers, escapes, a new origin, a huge one', () => {
    const ours = captureBytes();
    const theirs = capture();
    const write = requestLogger(ours.log.child({ component: 'gateway' }));
    const records: RequestRecord[] = [
      record,
      { ...record, origin: 'https://app.example', durationMs: 0.05, status: 404 },
      { ...record, origin: 'https://app.example', durationMs: 12.3, callerKind: null, route: null },
      { ...record, origin: null, durationMs: 5, status: 201 },
      { ...record, origin: 'https://ünï.example/\u2028', durationMs: 1234.56 },
      { ...record, origin: 'https://x.test/"', durationMs: 0.5 },
      { ...record, origin: `https://${'a'.repeat(5000)}.test`, durationMs: 100.01 },
    ];
    for (const r of records) {
      write(r);
      theirs.log.child({ component: 'gateway' }).info(r, 'request');
    }
    assert.equal(ours.lines.length, records.length);
    ours.lines.forEach((line, i) => {
      assert.equal(line.startsWith('string:'), i === records.length - 1, `line ${i} ${i === records.length - 1 ? 'is' : 'is not'} built as a string`);
      const [a, b] = [JSON.parse(line.replace(/^string:/, '')), JSON.parse(theirs.lines[i])];
      assert.ok(Math.abs(a.time - b.time) < 1000);
      assert.deepEqual({ ...a, time: 0 }, { ...b, time: 0 }, `line ${i}`);
      assert.equal(line.split('\n').length, 2);
    });
  });


  it('writes exactly the line pino would write for the same fields', () => {
    const ours = capture();
    const theirs = capture();
    requestLogger(ours.log.child({ component: 'gateway' }))(record);
    theirs.log.child({ component: 'gateway' }).info(record, 'request');
    const [a, b] = [JSON.parse(ours.lines[0]), JSON.parse(theirs.lines[0])];
    assert.ok(Math.abs(a.time - b.time) < 1000);
    assert.deepEqual({ ...a, time: 0 }, { ...b, time: 0 });
    assert.equal(ours.lines[0].split('\n').length, 2, 'one line, whatever the Origin holds');
  });

  it('writes nothing below its level and follows a level changed later', () => {
    const { lines, log } = capture('warn');
    const write = requestLogger(log);
    write(record);
    assert.equal(lines.length, 0);
    log.level = 'info';
    write(record);
    assert.equal(lines.length, 1);
  });
});
