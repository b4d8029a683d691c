// The web client's contract (shared/spec/original-web-client.md), as one table: each row is
// a request exactly as the client sends it and the reply fields its schemas require, by
// name, type and absence-vs-null. Through the real gateway over real sockets, real git on
// a temp repository whose origin names github.com/acme/widgets. A change that breaks the
// client fails here.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createFakeGh, jsonLines, type FakeGh, type FakeGhAnswer } from '../git/testing/fake-gh.js';
import { createGitFixture, type GitFixture } from '../git/testing/fixture.js';
import { ClaudeProvider } from '../providers/claude.js';
import { claudeTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { startTestGateway, type TestGateway, type TestRequest } from './testing.js';

const APP = 'https://app.example.test';

/** `absent`: the key must not be there at all (zod optional refuses null). */
type Kind = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null' | 'absent' | 'string|null';

interface Row {
  name: string;
  path: (c: Ctx) => string;
  init?: (c: Ctx) => Omit<TestRequest, 'auth'>;
  status: number;
  /** Dotted paths into the reply (`files.0.path`). */
  fields: Record<string, Kind>;
  /** An NDJSON reply: fields are paths into `{events, first, text, result, last}` (the first text event, the result event, the last event). */
  stream?: boolean;
}

interface Ctx {
  worktree: string;
  fx: GitFixture;
  api: MockModelApi;
}

const ident = (c: Ctx) => ({ repoPath: c.worktree, repoFullName: 'acme/widgets', headBranch: 'feature/pr-7', prNumber: '7' });
const q = (params: Record<string, string>) => `?${new URLSearchParams(params).toString()}`;
const json = (body: unknown): Omit<TestRequest, 'auth'> => ({ method: 'POST', json: body });

const PR = { owner: 'acme', repo: 'widgets', number: '7' };
const BRANCH_ID = `${encodeURIComponent('acme/widgets')}::${encodeURIComponent('feature/pr-7')}`;
const HEAD = 'a'.repeat(40);
const BASE = 'b'.repeat(40);

/** gh's answers for PR 7 (and 8, awaiting review), in gh's own formats. */
function ghAnswers(): FakeGhAnswer[] {
  const api = (path: string, stdout: unknown): FakeGhAnswer => ({ args: ['api', path], stdout });
  const list = (path: string, items: unknown[]): FakeGhAnswer => ({ args: ['api', '--paginate', '--jq=.[]', path], stdout: jsonLines(items) });
  const file = (data: string, size = data.length) => ({ type: 'file', encoding: 'base64', size, content: `${Buffer.from(data).toString('base64')}\n` });
  const review = { id: 'PRR_1', author: { login: 'ana' }, authorAssociation: 'MEMBER', body: '', submittedAt: '2026-11-02T00:00:00Z', includesCreatedEdit: false, reactionGroups: [], state: 'APPROVED', commit: { oid: HEAD } };
  return [
    api('repos/acme/widgets/pulls/7', { number: 7, html_url: 'https://github.com/acme/widgets/pull/7', head: { ref: 'feature/pr-7', sha: HEAD }, base: { ref: 'main', sha: BASE } }),
    list('repos/acme/widgets/pulls/7/files', [
      { sha: 'f1', filename: 'README.md', status: 'modified', additions: 1, deletions: 1, changes: 2 },
      { sha: 'f2', filename: 'b.txt', status: 'renamed', additions: 1, deletions: 1, changes: 2, previous_filename: 'a.txt' },
      { sha: 'f3', filename: 'big.json', status: 'modified', additions: 1, deletions: 1, changes: 2 },
    ]),
    { args: ['pr', 'view', '7', '--repo=acme/widgets', '--json=reviewDecision,reviews'], stdout: { reviewDecision: 'APPROVED', reviews: [review] } },
    { args: ['pr', 'view', '8', '--repo=acme/widgets', '--json=reviewDecision,reviews'], stdout: { reviewDecision: 'REVIEW_REQUIRED', reviews: [] } },
    list('repos/acme/widgets/issues/7/comments', [{ id: 1, node_id: 'IC_1', body: 'ok', user: { login: 'bo' }, created_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z', html_url: 'https://github.com/acme/widgets/pull/7#issuecomment-1' }]),
    list('repos/acme/widgets/pulls/7/comments', [{ id: 9, node_id: 'PRRC_9', body: 'nit', path: 'b.txt', line: 1, position: 1, user: { login: 'ana' }, created_at: '2026-11-02T00:00:00Z', updated_at: '2026-11-02T00:00:00Z', html_url: 'https://github.com/acme/widgets/pull/7#discussion_r9' }]),
    { args: ['api', `repos/acme/widgets/compare/${BASE}...${HEAD}`, '--jq=.merge_base_commit.sha'], stdout: `${BASE}\n` },
    api(`repos/acme/widgets/contents/a.txt?ref=${BASE}`, file('old\n')),
    api(`repos/acme/widgets/contents/b.txt?ref=${HEAD}`, file('new\n')),
    api(`repos/acme/widgets/contents/big.json?ref=${BASE}`, { ...file(''), encoding: 'none', content: '', size: 3 * 1024 * 1024 }),
    api(`repos/acme/widgets/contents/big.json?ref=${HEAD}`, { ...file(''), encoding: 'none', content: '', size: 3 * 1024 * 1024 }),
  ];
}

const ROWS: Row[] = [
  {
    name: 'health-check (§1)',
    path: () => `/api/gateway/health-check${q({ expectedMcpUrl: 'https://mcp.example.test/mcp', latestVersion: '0.0.1' })}`,
    status: 200,
    fields: {
      checks: 'array',
      'checks.0.id': 'string',
      'checks.0.label': 'string',
      'checks.0.required': 'boolean',
      'checks.0.passed': 'boolean',
      allRequiredPassed: 'boolean',
      'mcpServers.claude.available': 'boolean',
      'mcpServers.claude.serverName': 'string|null',
      'mcpServers.claude.matchedUrl': 'string|null',
      'mcpServers.claude.checkedAt': 'string',
      'mcpServers.codex.available': 'boolean',
    },
  },
  { name: 'version (§8)', path: () => '/api/gateway/version', status: 200, fields: { version: 'string' } },
  {
    name: 'repos GET (§2)',
    path: () => '/api/gateway/repos',
    status: 200,
    fields: { repos: 'array', 'repos.0.path': 'string', 'repos.0.name': 'string', 'repos.0.addedAt': 'string', 'repos.0.description': 'absent', settings: 'object' },
  },
  {
    name: 'repos PATCH global (§2)',
    path: () => '/api/gateway/repos',
    init: () => ({ method: 'PATCH', json: { worktreeParentDir: '~/trees', worktreeParentDirConfirmed: true } }),
    status: 200,
    fields: { success: 'boolean', 'settings.worktreeParentDir': 'string', 'settings.worktreeParentDirConfirmed': 'boolean' },
  },
  {
    name: 'directories (§3)',
    path: () => `/api/gateway/directories${q({ path: '~' })}`,
    status: 200,
    fields: { directories: 'array', 'directories.0.name': 'string', 'directories.0.path': 'string', 'directories.0.isGitRepo': 'boolean' },
  },
  {
    name: 'directories, missing folder (§3)',
    path: () => `/api/gateway/directories${q({ path: '~/nowhere' })}`,
    status: 200,
    fields: { directories: 'array', 'directories.0': 'absent' },
  },
  {
    name: 'files/search base=true (§3)',
    path: (c) => `/api/gateway/files/search${q({ repo: c.fx.repo, query: 'READ', base: 'true' })}`,
    status: 200,
    fields: { files: 'array', 'files.0': 'string', truncated: 'boolean', error: 'absent' },
  },
  {
    name: 'branch-worktree (§4)',
    path: () => `/api/gateway/git/branch-worktree${q({ repoFullName: 'acme/widgets', headBranch: 'feature/pr-7', prNumber: '7' })}`,
    status: 200,
    fields: { path: 'string', repoPath: 'string' },
  },
  { name: 'repo-path (§4)', path: () => `/api/gateway/git/repo-path${q({ repoFullName: 'acme/widgets' })}`, status: 200, fields: { path: 'string' } },
  {
    name: 'local-changes list (§6)',
    path: (c) => `/api/gateway/git/local-changes${q(ident(c))}`,
    status: 200,
    fields: { repoPath: 'string', branch: 'string', files: 'array', 'files.0.path': 'string', 'files.0.status': 'string', 'files.0.previousPath': 'absent' },
  },
  {
    name: 'local-changes diff (§6)',
    path: () => '/api/gateway/git/local-changes/diff',
    init: (c) => json({ ...ident(c), path: 'README.md', previousPath: null }),
    status: 200,
    fields: { path: 'string', oldContent: 'string', newContent: 'string', isNew: 'boolean', isDeleted: 'boolean', isBinary: 'boolean' },
  },
  {
    name: 'local-changes diff, escape (§6)',
    path: () => '/api/gateway/git/local-changes/diff',
    init: (c) => json({ ...ident(c), path: '../../etc/passwd', previousPath: null }),
    status: 403,
    fields: { error: 'string', code: 'string' },
  },
  {
    name: 'local-changes, wrong branch (§6)',
    path: (c) => `/api/gateway/git/local-changes${q({ ...ident(c), headBranch: 'main' })}`,
    status: 409,
    fields: { error: 'string', code: 'string', 'details.currentBranch': 'string', 'details.expectedBranch': 'string' },
  },
  {
    name: 'bad input names the field (§9)',
    path: () => `/api/gateway/git/repo-path${q({ repoFullName: 'not a name' })}`,
    status: 400,
    fields: { error: 'string', code: 'string', 'details.issues.0.field': 'string' },
  },
  {
    name: 'pr/files (§5): previous_filename absent unless renamed',
    path: () => `/api/gateway/git/pr/files${q(PR)}`,
    status: 200,
    fields: {
      files: 'array', 'files.0.filename': 'string', 'files.0.additions': 'number', 'files.0.deletions': 'number', 'files.0.status': 'string',
      'files.0.previous_filename': 'absent', 'files.1.previous_filename': 'string',
    },
  },
  {
    name: 'pr/reviews (§5)',
    path: () => `/api/gateway/git/pr/reviews${q(PR)}`,
    status: 200,
    fields: { reviewDecision: 'string', approvalCount: 'number', changesRequestedCount: 'number' },
  },
  {
    name: 'pr/reviews, REVIEW_REQUIRED is null (§5)',
    path: () => `/api/gateway/git/pr/reviews${q({ ...PR, number: '8' })}`,
    status: 200,
    fields: { reviewDecision: 'null', approvalCount: 'number', changesRequestedCount: 'number' },
  },
  {
    name: 'pr/comments (§5)',
    path: () => `/api/gateway/git/pr/comments${q({ ...PR, branchId: BRANCH_ID })}`,
    status: 200,
    fields: {
      branchId: 'string', state: 'string', failureReason: 'absent', comments: 'array',
      ...Object.fromEntries(
        Object.entries({
          id: 'string', providerNodeId: 'string|null', providerCommentId: 'string|null', threadId: 'string|null', inReplyToId: 'string|null',
          path: 'string|null', kind: 'string', line: 'number', resolved: 'null', 'author.login': 'string', 'author.displayName': 'string|null',
          'author.avatarUrl': 'string|null', 'author.profileUrl': 'string|null', body: 'string', createdAt: 'string', updatedAt: 'string|null',
          providerUrl: 'string|null', stale: 'boolean', bodyTruncated: 'boolean',
        }).map(([key, kind]) => [`comments.0.${key}`, kind as Kind]),
      ),
      'comments.1.kind': 'string', 'comments.1.line': 'null', 'comments.1.path': 'null', 'comments.1.threadId': 'null',
      ...Object.fromEntries(
        ['maxComments', 'pageSize', 'maxBodyBytes', 'maxResponseBytes', 'omittedComments', 'bodyTruncatedCount'].map((key) => [`budget.${key}`, 'number' as Kind]),
      ),
      'budget.providerTruncated': 'boolean', 'budget.responseTruncated': 'boolean',
      providerProofedAt: 'string|null', stale: 'boolean', mixedProjection: 'boolean', prNumber: 'number', prUrl: 'string|null',
    },
  },
  {
    name: 'pr/comments, another branch: 403 reason forbidden_mismatch (§5)',
    path: () => `/api/gateway/git/pr/comments${q({ ...PR, branchId: `${encodeURIComponent('acme/widgets')}::main` })}`,
    status: 403,
    fields: { error: 'string', code: 'string', reason: 'string' },
  },
  {
    name: 'pr/comments without branchId: 400 (§5)',
    path: () => `/api/gateway/git/pr/comments${q(PR)}`,
    status: 400,
    fields: { error: 'string', code: 'string', 'details.issues.0.field': 'string', reason: 'absent' },
  },
  {
    name: 'pr/file-diff (§5)',
    path: () => `/api/gateway/git/pr/file-diff${q({ ...PR, path: 'b.txt', previousPath: 'a.txt', branchId: BRANCH_ID })}`,
    status: 200,
    fields: { path: 'string', oldContent: 'string', newContent: 'string', isNew: 'boolean', isDeleted: 'boolean', isBinary: 'boolean' },
  },
  {
    name: 'pr/file-diff, over 1 MiB: 413 (§5)',
    path: () => `/api/gateway/git/pr/file-diff${q({ ...PR, path: 'big.json' })}`,
    status: 413,
    fields: { error: 'string', code: 'string' },
  },
  {
    name: 'chat (§7): NDJSON ending in result then done; no API origin here, so kept locally',
    path: () => '/api/gateway/chat',
    init: (c) => {
      c.api.script({ kind: 'text', text: 'contract reply', chunks: 2 });
      return json({
        chatKey: 'contract-chat', provider: 'claude', model: 'claude-sonnet-4-5', context: 'ctx', cwd: c.fx.repo,
        userMessage: { id: 'user-7b2c', role: 'user', content: 'hello', timestamp: new Date().toISOString() },
        apiBaseUrl: 'http://127.0.0.1:9', apiAuthToken: 'runner-token',
      });
    },
    status: 200,
    stream: true,
    fields: {
      'first.type': 'string', 'first.status': 'string', 'text.content': 'string',
      'result.success': 'boolean', 'result.sessionId': 'string', 'last.type': 'string', 'last.error': 'absent',
    },
  },
  {
    name: 'chat (§7), userMessage not the client\'s shape: 400 naming the field',
    path: () => '/api/gateway/chat',
    init: (c) => json({ chatKey: 'k', provider: 'claude', model: 'm', context: '', cwd: c.fx.repo, userMessage: { id: 'user-1', role: 'user', content: 'hi' } }),
    status: 400,
    fields: { error: 'string', code: 'string', 'details.issues.0.field': 'string' },
  },
  // A route this gateway lacks: no `code`, so the client says `unsupported_desktop_version`.
  { name: 'unknown route 404 (§6, §9)', path: () => '/api/gateway/git/no-such-route', status: 404, fields: { error: 'string', code: 'absent' } },
];

describe('the web client contract, route by route', () => {
  let fx: GitFixture;
  let fake: FakeGh;
  let api: MockModelApi;
  let dirs: TestDirs;
  let gw: TestGateway;
  let session: string;
  let ctx: Ctx;
  const savedHome = process.env.HOME;

  before(async () => {
    fx = await createGitFixture();
    fake = await createFakeGh();
    await fake.answer(ghAnswers());
    api = await MockModelApi.start();
    dirs = makeTestDirs('contract');
    await fx.sh(fx.repo, 'remote', 'set-url', 'origin', 'https://github.com/acme/widgets.git');
    await fx.sh(fx.repo, 'config', `url.${fx.remote}.insteadOf`, 'https://github.com/acme/widgets.git');
    process.env.HOME = fx.root;
    gw = await startTestGateway({
      approvalTimeoutMs: 300,
      binarySearchDirs: [NODE_MODULES_BIN],
      configure: async (services) => {
        services.providers.register(new ClaudeProvider(services.supervisor, claudeTestConfig(api, dirs.homes)));
        await services.setWorkspaceRoot(fx.root);
        services.settings.set('binaryPaths', { gh: fake.path });
      },
    });
    gw.services.policy.replaceOverrides([
      { callerKind: 'origin', operation: 'repos_config', access: 'write', decision: 'allow' },
      { callerKind: 'origin', operation: 'chat', access: 'write', action: 'agent_start', decision: 'allow' },
    ]);
    session = await gw.pair(APP);
    assert.equal((await gw.request('/api/gateway/repos', { method: 'POST', json: { path: fx.repo }, auth: 'token' })).status, 201);
    const created = await gw.request('/api/gateway/git/worktree', { method: 'POST', json: { repoPath: fx.repo, branchName: 'feature/pr-7' }, auth: 'token' });
    assert.equal(created.status, 200, created.text);
    ctx = { fx, api, worktree: created.json.path };
    await writeFile(path.join(ctx.worktree, 'README.md'), 'changed in the worktree\n');
    await mkdir(path.join(ctx.worktree, 'docs'));
    await writeFile(path.join(ctx.worktree, 'docs', 'new.md'), 'new\n');
  });
  after(async () => {
    await gw.close();
    await fx.close();
    await fake.close();
    await api.close();
    dirs.cleanup();
    if (savedHome === undefined) delete process.env.HOME;
    else process.env.HOME = savedHome;
  });

  for (const row of ROWS) {
    test(row.name, async () => {
      const res = await gw.request(row.path(ctx), { ...row.init?.(ctx), auth: { session, origin: APP } });
      assert.equal(res.status, row.status, res.text);
      assert.ok(res.headers['x-request-id'], 'X-Request-Id on every reply');
      const body = row.stream ? streamView(res.text) : res.json;
      for (const [field, kind] of Object.entries(row.fields)) assertKind(body, field, kind);
    });
  }

  test('health-check rows never carry null optional fields', async () => {
    const res = await gw.request('/api/gateway/health-check', { auth: { session, origin: APP } });
    for (const row of res.json.checks) for (const [key, value] of Object.entries(row)) assert.notEqual(value, null, `${row.id}.${key}`);
  });

  test('commit-push (§6): the preflight allows the client headers; a paired origin is asked (408 carries a code); the token commits and pushes', async () => {
    const preflight = await gw.request('/api/gateway/git/local-changes/commit-push', {
      method: 'OPTIONS',
      headers: { Origin: APP, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-desktop-session-token,x-desktop-force-approval,x-desktop-approval-reason' },
    });
    assert.match(String(preflight.headers['access-control-allow-headers']), /X-Desktop-Force-Approval/i);
    const body = { ...ident(ctx), message: 'Update pr 7' };
    const asked = await gw.request('/api/gateway/git/local-changes/commit-push', {
      method: 'POST',
      json: body,
      headers: { 'x-desktop-force-approval': '1', 'x-desktop-approval-reason': 'Commit and push local Branch View changes for acme/widgets#7' },
      auth: { session, origin: APP },
    });
    assert.deepEqual([asked.status, typeof asked.json.code], [408, 'string']);
    const done = await gw.request('/api/gateway/git/local-changes/commit-push', { method: 'POST', json: body, auth: 'token' });
    assert.equal(done.status, 200, done.text);
    assert.deepEqual({ ...done.json, commitSha: typeof done.json.commitSha }, { success: true, commitSha: 'string', branch: 'feature/pr-7', pushed: true, filesCommitted: 2 });
    assert.equal((await fx.sh(fx.remote, 'rev-parse', 'refs/heads/feature/pr-7')).trim(), done.json.commitSha);
    const again = await gw.request('/api/gateway/git/local-changes/commit-push', { method: 'POST', json: body, auth: 'token' });
    assert.deepEqual([again.status, again.json.code], [409, 'no_local_changes']);
  });
});

/** The client's stream parser (split, trim, JSON.parse; here no line may fail), and the events its reader looks at. */
function streamView(text: string) {
  const events = text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => JSON.parse(line) as { type: string });
  assert.deepEqual(events.slice(-2).map((e) => e.type), ['result', 'done'], 'a stream ends in result, then done');
  return { events, first: events[0], text: events.find((e) => e.type === 'text'), result: events.find((e) => e.type === 'result'), last: events.at(-1) };
}

function assertKind(body: unknown, field: string, kind: Kind): void {
  let value: unknown = body;
  let present = true;
  for (const key of field.split('.')) {
    if (value === null || typeof value !== 'object' || !(key in (value as object))) {
      present = false;
      value = undefined;
      break;
    }
    value = (value as Record<string, unknown>)[key];
  }
  const shown = `${field} in ${JSON.stringify(body).slice(0, 400)}`;
  if (kind === 'absent') return assert.ok(!present, `${field} must be absent: ${shown}`);
  assert.ok(present, `${field} is missing: ${shown}`);
  if (kind === 'null') return assert.equal(value, null, shown);
  if (kind === 'string|null') return assert.ok(value === null || typeof value === 'string', shown);
  if (kind === 'array') return assert.ok(Array.isArray(value), shown);
  if (kind === 'object') return assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), shown);
  assert.equal(typeof value, kind, shown);
}
