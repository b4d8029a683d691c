import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { NdjsonBody } from './respond.js';

/** A generator that notes how far it was pulled and whether its cleanup ran. */
function counted(total: number, failAt = -1) {
  const seen = { pulled: 0, cleanedUp: false };
  async function* events() {
    try {
      for (let i = 0; i < total; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        if (i === failAt) throw new Error('the turn failed');
        seen.pulled++;
        yield { type: 'text', content: `${i} ${'x'.repeat(100)}` };
      }
    } finally {
      seen.cleanedUp = true;
    }
  }
  return { seen, events: events() };
}

const sink = (lines: string[], onLine?: () => void) =>
  new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(line);
      onLine?.();
      callback();
    },
  });

describe('NdjsonBody', () => {
  it('writes one JSON line per event, in order, then ends', async () => {
    const { seen, events } = counted(50);
    const lines: string[] = [];
    await pipeline(new NdjsonBody(events), sink(lines));
    assert.equal(lines.length, 50);
    assert.deepEqual(lines.map((line) => Number((JSON.parse(line) as { content: string }).content.split(' ')[0])), [...Array(50).keys()]);
    assert.equal(seen.cleanedUp, true);
  });

  it('pulls only as fast as the reader reads (backpressure)', async () => {
    const { seen, events } = counted(10_000);
    const body = new NdjsonBody(events);
    body.read(0); // starts the pulling; nobody reads, so the buffer fills to its mark and it stops
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(seen.pulled > 0 && seen.pulled < 1_000, `pulled ${seen.pulled} of 10,000 with nobody reading`);
    body.destroy();
    await once(body, 'close');
  });

  it('destroyed mid-stream (the client left), it ends the events: their cleanup runs', async () => {
    const { seen, events } = counted(10_000);
    const body = new NdjsonBody(events);
    const lines: string[] = [];
    const reader = sink(lines, () => {
      if (lines.length >= 5) body.destroy();
    });
    body.pipe(reader);
    await once(body, 'close');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(seen.cleanedUp, true);
    assert.ok(seen.pulled < 100, `stopped after ${seen.pulled} events`);
  });

  it('an event source that throws destroys the body with its error', async () => {
    const { seen, events } = counted(20, 7);
    const lines: string[] = [];
    await assert.rejects(pipeline(new NdjsonBody(events), sink(lines)), /the turn failed/);
    assert.equal(lines.length, 7);
    assert.equal(seen.cleanedUp, true);
  });
});
