// The desktop process list over a real gateway: list live children with their output
// tail, kill one tree by id, 404 for an unknown id, never reachable from a paired origin.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readProcStat } from '../../supervisor/procfs.js';
import type { SupervisedChild } from '../../supervisor/supervisor.js';
import { startTestGateway, type TestGateway } from '../testing.js';

const APP = 'https://app.example.test';

describe('desktop processes routes', () => {
  let gw: TestGateway;
  let child: SupervisedChild;
  let grandchild: number;

  before(async () => {
    gw = await startTestGateway();
    child = await gw.services.supervisor.start({
      command: 'sh',
      args: ['-c', 'sleep 30 & echo $!; sleep 30'],
      cwd: gw.dataDir,
      stdin: 'ignore',
      label: 'listed child',
      owner: 'test',
    });
    for await (const entry of child.lines()) {
      grandchild = Number(entry.line);
      break;
    }
  });
  after(() => gw.close());

  it('lists live children with their last lines', async () => {
    const res = await gw.request('/api/gateway/desktop/processes', { auth: 'token' });
    assert.equal(res.status, 200);
    const listed = res.json.processes.find((p: { id: string }) => p.id === child.id);
    assert.deepEqual(
      { pid: listed.pid, label: listed.label, command: listed.command, args: listed.args, state: listed.state, tail: listed.tail, owner: listed.owner },
      { pid: child.pid, label: 'listed child', command: 'sh', args: ['-c', 'sleep 30 & echo $!; sleep 30'], state: 'running', tail: [String(grandchild)], owner: 'test' },
    );
  });

  it('is desktop-only: a paired origin is refused', async () => {
    const session = await gw.pair(APP);
    const res = await gw.request('/api/gateway/desktop/processes', { auth: { session, origin: APP } });
    assert.equal(res.status, 403);
  });

  it('kills a tree by id, then answers 404 for it', async () => {
    const res = await gw.request(`/api/gateway/desktop/processes/${child.id}`, { method: 'DELETE', auth: 'token' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { killed: true });
    assert.equal(child.state, 'killed');
    for (const pid of [child.pid, grandchild]) {
      const stat = readProcStat(pid);
      assert.ok(stat === null || stat.state === 'Z', `${pid} still alive`);
    }
    const again = await gw.request(`/api/gateway/desktop/processes/${child.id}`, { method: 'DELETE', auth: 'token' });
    assert.equal(again.status, 404);
    assert.equal(again.json.code, 'process_not_found');
  });
});
