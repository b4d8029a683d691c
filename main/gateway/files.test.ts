// The filesystem routes over real sockets: directory listing and file search on real
// folders and git repositories, every path escape answered with 403 path_not_allowed.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from './testing.js';

const APP = 'https://app.example.test';

describe('filesystem routes', () => {
  let gw: TestGateway;
  let session: string;
  let base: string;
  let root: string;
  let repo: string;

  const get = (route: string, params: Record<string, string>, auth: 'token' | 'session' = 'token') => {
    const query = new URLSearchParams(params).toString();
    return gw.request(`/api/gateway/${route}?${query}`, { auth: auth === 'token' ? 'token' : { session, origin: APP } });
  };

  async function git(cwd: string, ...args: string[]): Promise<void> {
    const result = await gw.services.supervisor.run('git', args, { cwd, timeoutMs: 30_000 });
    assert.equal(result.exitCode, 0, result.stderr);
  }

  before(async () => {
    gw = await startTestGateway();
    session = await gw.pair(APP);
    base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'files-routes-')));
    root = path.join(base, 'root');
    repo = path.join(root, 'app');
    mkdirSync(path.join(repo, 'src', 'components'), { recursive: true });
    mkdirSync(path.join(root, 'notes'));
    mkdirSync(`${root}-evil`);
    mkdirSync(path.join(base, 'outside'));
    symlinkSync(path.join(base, 'outside'), path.join(root, 'link-out'));
    writeFileSync(path.join(repo, 'src', 'components', 'Button.tsx'), '');
    writeFileSync(path.join(repo, 'src', 'bundle-utility-toolkit-on.ts'), '');
    writeFileSync(path.join(repo, '.gitignore'), 'dist/\n');
    await git(repo, 'init', '-q', '-b', 'main');
    await git(repo, 'add', '-A');
    await git(repo, '-c', 'user.name=t', '-c', 'user.email=t@example.test', 'commit', '-q', '-m', 'init');
    mkdirSync(path.join(repo, 'dist'));
    writeFileSync(path.join(repo, 'dist', 'button.js'), '');
    writeFileSync(path.join(repo, 'button-notes.md'), '');
  });

  after(async () => {
    await gw.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('refuses every path, saying how to set the root, until a workspace root is set', async () => {
    for (const res of [await get('directories', {}), await get('files/search', { repo, query: 'b' })]) {
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'path_not_allowed');
      assert.match(res.json.error, /symphony-gateway config --workspace-root DIR/);
    }
    await gw.services.setWorkspaceRoot(root);
  });

  it('lists the workspace root with git repositories first', async () => {
    const res = await get('directories', {}, 'session');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.path, root);
    assert.deepEqual(
      res.json.directories.map((d: { name: string; isGitRepo: boolean }) => [d.name, d.isGitRepo]),
      [
        ['app', true],
        ['notes', false],
      ],
    );
  });

  it('searches a repository: exact name first, untracked included, ignored excluded', async () => {
    const res = await get('files/search', { repo, query: 'button', limit: '10' }, 'session');
    assert.equal(res.status, 200, res.text);
    // `files` is what the web client reads: repository-relative paths, best first.
    assert.deepEqual(res.json.files, ['src/components/Button.tsx', 'button-notes.md', 'src/bundle-utility-toolkit-on.ts']);
    assert.equal(res.json.truncated, false);
    assert.deepEqual(Object.keys(res.json.matches[0]).sort(), ['name', 'path', 'positions', 'score']);
    assert.deepEqual(res.json.matches.map((m: { path: string }) => m.path), res.json.files);
  });

  it('answers every escape with 403 path_not_allowed', async () => {
    const escapes = [
      'relative/path',
      `${root}/../outside`,
      `${root}/%2e%2e/outside`,
      `${root}/%252e%252e/outside`,
      `${root}/app\0`,
      `${root}-evil`,
      path.join(root, 'link-out'),
      path.join(base, 'outside'),
      path.join(os.homedir(), '.ssh'),
    ];
    for (const escape of escapes) {
      for (const res of [await get('directories', { path: escape }), await get('files/search', { repo: escape, query: 'a' })]) {
        assert.equal(res.status, 403, `${escape}: ${res.text}`);
        assert.equal(res.json.code, 'path_not_allowed');
      }
    }
  });

  it('validates the query: a missing repo or a bad limit is a 400 naming the field', async () => {
    const missing = await get('files/search', { query: 'a' });
    assert.equal(missing.status, 400);
    assert.match(missing.json.error, /repo/);
    const badLimit = await get('files/search', { repo, query: 'a', limit: '0' });
    assert.equal(badLimit.status, 400);
    assert.match(badLimit.json.error, /limit/);
    const notRepo = await get('files/search', { repo: path.join(root, 'notes'), query: 'a' });
    assert.equal(notRepo.status, 422);
    assert.equal(notRepo.json.code, 'not_a_git_repository');
  });
});
