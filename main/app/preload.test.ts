// The preload runs in Electron's sandbox, which this machine cannot start. What can be
// checked under Node is what matters most: compiled as tsc compiles it (.cts → CommonJS),
// it loads in a sandbox-like scope that offers only require('electron'), exposes exactly
// the bridge, maps each call to its IPC channel and never hands the renderer an event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import ts from 'typescript';

const source = readFileSync(new URL('./preload.cts', import.meta.url), 'utf8');

function loadPreload() {
  const { outputText } = ts.transpileModule(source, {
    fileName: 'preload.cts',
    compilerOptions: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2023 },
  });
  const exposed: Record<string, unknown> = {};
  const invoked: unknown[][] = [];
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  const electron = {
    contextBridge: {
      exposeInMainWorld: (key: string, api: unknown) => {
        exposed[key] = api;
      },
    },
    ipcRenderer: {
      invoke: async (...args: unknown[]) => {
        invoked.push(args);
        return { channel: args[0] };
      },
      on: (channel: string, listener: (...args: unknown[]) => void) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel)!.add(listener);
      },
      removeListener: (channel: string, listener: (...args: unknown[]) => void) => listeners.get(channel)?.delete(listener),
    },
  };
  const required: string[] = [];
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
    return electron;
  };
  // Electron wraps a sandboxed preload in a function of these names; nothing else is there.
  const wrapper = vm.runInNewContext(
    `(function (require, process, Buffer, global, setImmediate, clearImmediate, exports, module) {${outputText}\n})`,
    {},
  ) as (...args: unknown[]) => void;
  const module = { exports: {} };
  wrapper(sandboxRequire, {}, undefined, {}, undefined, undefined, module.exports, module);
  const emit = (channel: string, ...args: unknown[]) => listeners.get(channel)?.forEach((listener) => listener(...args));
  return { exposed, invoked, listeners, required, emit };
}

test('compiles to CommonJS that needs nothing but electron', () => {
  const { required, exposed } = loadPreload();
  assert.deepEqual(required, ['electron']);
  assert.deepEqual(Object.keys(exposed), ['symphony']);
  assert.deepEqual(Object.keys(exposed.symphony as object).sort(), ['appInfo', 'decideApproval', 'onApproval', 'onShowApprovals', 'openPreview', 'pair']);
});

test('each bridge call goes to its IPC channel with only its own arguments', async () => {
  const { exposed, invoked } = loadPreload();
  const bridge = exposed.symphony as Record<string, (...args: unknown[]) => Promise<unknown>>;
  assert.deepEqual(await bridge.pair(), { channel: 'symphony:pair' });
  assert.deepEqual(await bridge.appInfo(), { channel: 'symphony:app-info' });
  assert.equal(await bridge.decideApproval('apr_1', { decision: 'deny' }), undefined);
  assert.equal(await bridge.openPreview('http://localhost:4100'), undefined);
  assert.deepEqual(invoked, [
    ['symphony:pair'], ['symphony:app-info'], ['symphony:decide-approval', 'apr_1', { decision: 'deny' }], ['symphony:open-preview', 'http://localhost:4100'],
  ]);
});

test('listeners get the payload, never the IPC event, and can unsubscribe', () => {
  const { exposed, emit, listeners } = loadPreload();
  const bridge = exposed.symphony as Record<string, (listener: (...args: unknown[]) => void) => () => void>;
  const approvals: unknown[][] = [];
  const unsubscribe = bridge.onApproval((...args) => approvals.push(args));
  const shown: unknown[][] = [];
  bridge.onShowApprovals((...args) => shown.push(args));
  emit('symphony:approval', { sender: 'the IpcRendererEvent' }, { id: 'apr_1' });
  emit('symphony:show-approvals', { sender: 'the IpcRendererEvent' });
  assert.deepEqual(approvals, [[{ id: 'apr_1' }]]);
  assert.deepEqual(shown, [[]]);
  unsubscribe();
  assert.equal(listeners.get('symphony:approval')?.size, 0);
  emit('symphony:approval', {}, { id: 'apr_2' });
  assert.equal(approvals.length, 1);
});
