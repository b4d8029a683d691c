// Binary path overrides over a real gateway: what GET shows for each CLI, and PATCH
// checking every override (absolute, executable, answers --version) before saving any.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../testing.js';

const PATH = '/api/gateway/settings/binary-paths';

function script(file: string, body: string): string {
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('binary-paths settings routes', () => {
  let gw: TestGateway;
  let dir: string;
  let fakeGh: string;
  let broken: string;

  const patch = (binaryPaths: Record<string, unknown>) => gw.request(PATH, { method: 'PATCH', json: { binaryPaths }, auth: 'token' });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'binary-paths-'));
    fakeGh = script(join(dir, 'gh'), 'echo "gh version 2.99.0 (fake)"');
    broken = script(join(dir, 'broken'), 'exit 1');
    gw = await startTestGateway({ binarySearchDirs: [resolve('node_modules/.bin')] });
  });
  after(async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET shows every CLI with its path, source and version', async () => {
    const res = await gw.request(PATH, { auth: 'token' });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.json.binaries).sort(), ['claude', 'codex', 'gh', 'git', 'python3']);
    const claude = res.json.binaries.claude;
    assert.equal(claude.path, resolve('node_modules/.bin/claude'));
    assert.equal(claude.source, 'path');
    assert.match(claude.version, /Claude Code/);
    assert.equal(claude.override, null);
    assert.match(res.json.binaries.git.version, /^git version /);
  });

  it('PATCH saves a working override and GET then reports it', async () => {
    const res = await patch({ gh: fakeGh });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      { ...res.json.binaries.gh },
      { path: fakeGh, source: 'override', version: 'gh version 2.99.0 (fake)', override: fakeGh },
    );
    assert.equal(res.json.binaryPaths.gh, fakeGh);
    const result = await gw.services.supervisor.run('gh', ['--version']);
    assert.equal(result.stdout, 'gh version 2.99.0 (fake)\n');
  });

  it('PATCH refuses a relative path with 400 naming the field', async () => {
    const res = await patch({ git: 'bin/git' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json.details.issues, [{ field: 'binaryPaths.git', message: 'must be an absolute path' }]);
  });

  it('PATCH refuses a missing or silent program with 422 and saves nothing at all', async () => {
    const res = await patch({ gh: null, git: join(dir, 'nope'), python3: broken });
    assert.equal(res.status, 422);
    assert.deepEqual(
      res.json.details.fields.map((f: { field: string }) => f.field),
      ['binaryPaths.git', 'binaryPaths.python3'],
    );
    const after = await gw.request(PATH, { auth: 'token' });
    assert.equal(after.json.binaryPaths.gh, fakeGh, 'the valid part (clearing gh) was not applied either');
  });

  it('PATCH with null clears an override', async () => {
    const res = await patch({ gh: null });
    assert.equal(res.status, 200);
    assert.equal(res.json.binaryPaths.gh, null);
    assert.notEqual(res.json.binaries.gh.source, 'override');
  });

  it('PATCH refuses unknown binaries', async () => {
    const res = await patch({ bash: '/bin/bash' });
    assert.equal(res.status, 400);
  });
});
