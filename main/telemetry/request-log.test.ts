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

describe('requestLogger', () => {
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
