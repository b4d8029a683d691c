import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { logDir, logFiles, logFilePath, openGatewayLog, tailLogFiles } from './log-files.js';
import { requestLogger } from './request-log.js';

describe('gateway log files', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'symphony-logfiles-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('rotates by size, keeps a bounded number of 0600 files, tightens an old loose one, and reads back the newest lines', async () => {
    mkdirSync(logDir(dataDir), { recursive: true });
    writeFileSync(join(logDir(dataDir), 'gateway.log'), '{"old":true}\n');
    chmodSync(join(logDir(dataDir), 'gateway.log'), 0o644);
    const { log, close } = openGatewayLog({ dataDir, level: 'info', maxSize: '2K', keep: 3 });
    assert.equal((statSync(join(logDir(dataDir), 'gateway.log')).mode & 0o777).toString(8), '600');
    for (let i = 0; i < 200; i++) {
      log.info({ i, pad: 'x'.repeat(60) }, 'line');
      // Let the rotation run between bursts, as real traffic does.
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await close();
    const names = readdirSync(logDir(dataDir)).sort();
    assert.deepEqual(names, ['gateway.log', 'gateway.log.1', 'gateway.log.2', 'gateway.log.3']);
    for (const name of names) {
      const stat = statSync(join(logDir(dataDir), name));
      assert.equal((stat.mode & 0o777).toString(8), '600', name);
      assert.ok(stat.size < 4096, `${name} is capped (${stat.size} bytes)`);
    }
    assert.equal(logFiles(dataDir, 3).at(-1), join(logDir(dataDir), 'gateway.log'));
    const tail = tailLogFiles(dataDir, 5).map((line) => JSON.parse(line).i);
    assert.deepEqual(tail, [195, 196, 197, 198, 199]);
  });

  it('writes the request line as bytes to the file and the tee, and drops a tee that fails (stderr closed) while the file goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'symphony-logbytes-'));
    try {
      const teed: string[] = [];
      let failing = false;
      let calls = 0;
      const tee = {
        write: (line: string) => void teed.push(line),
        writeBytes: (bytes: Uint8Array, length: number) => {
          calls++;
          if (failing) throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
          teed.push(Buffer.from(bytes.subarray(0, length)).toString());
        },
      };
      const { log, close } = openGatewayLog({ dataDir: dir, level: 'info', tee });
      const write = requestLogger(log);
      const record = { requestId: 'r-1', operation: 'health_check', callerKind: 'token', origin: null, method: 'GET', route: '/api/gateway/version', status: 200, durationMs: 1.5 };
      write(record);
      failing = true;
      write({ ...record, requestId: 'r-2' });
      write({ ...record, requestId: 'r-3' });
      log.info('after');
      await close();
      assert.equal(calls, 2, 'the failed tee is not written again');
      assert.deepEqual(teed.map((line) => JSON.parse(line).requestId), ['r-1']);
      const lines = readFileSync(logFilePath(dir), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      assert.deepEqual(lines.map((line) => line.requestId ?? line.msg), ['r-1', 'r-2', 'r-3', 'after']);
      assert.equal(lines[0].durationMs, 1.5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
