// Binding: loopback only, the 19432-19435 fallback, and a clear error when all are taken.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServices, type Services } from '../services.js';
import { DEFAULT_PORTS, PortsUnavailable, startGateway } from './server.js';

function occupy(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null)); // someone else holds it already: just as good
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(server));
  });
}

describe('binding', () => {
  let services: Services;
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'symphony-bind-'));
    services = await createServices({ dataDir, secretStore: 'file', log: pino({ level: 'silent' }) });
  });
  after(async () => {
    await services.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only', async () => {
    const gateway = await startGateway(services, { port: 0 });
    try {
      const address = gateway.server.address();
      assert.ok(address && typeof address === 'object');
      assert.equal(address.address, '127.0.0.1');
      assert.equal(gateway.url, `http://127.0.0.1:${gateway.port}`);
    } finally {
      await gateway.close();
    }
  });

  it('falls back to the next port, and names all four when none is free', async () => {
    const blockers: Array<Server | null> = [await occupy(DEFAULT_PORTS[0])];
    try {
      const gateway = await startGateway(services);
      try {
        assert.ok(DEFAULT_PORTS.slice(1).includes(gateway.port as 19433), `got ${gateway.port}`);
      } finally {
        await gateway.close();
      }
      for (const port of DEFAULT_PORTS.slice(1)) blockers.push(await occupy(port));
      await assert.rejects(startGateway(services), (error: Error) => {
        assert.ok(error instanceof PortsUnavailable);
        for (const port of DEFAULT_PORTS) assert.match(error.message, new RegExp(String(port)));
        return true;
      });
    } finally {
      for (const blocker of blockers) blocker?.close();
    }
  });
});
