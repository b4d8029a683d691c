// What must survive a restart of the gateway on the same data dir.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestGateway } from './testing.js';

const APP = 'https://app.example.test';

describe('restart', () => {
  it('keeps the gateway token, sessions, policies and rules; revocation sticks', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'symphony-restart-'));
    try {
      const first = await startTestGateway({ dataDir });
      const kept = await first.pair(APP);
      const revoked = await first.pair(APP);
      const policies = [{ callerKind: 'origin', operation: 'learnings', access: 'read', decision: 'deny' }];
      assert.equal((await first.request('/api/gateway/desktop/policies', { method: 'PUT', json: { policies }, auth: 'token' })).status, 200);
      const revokedId = first.services.sessions.list().find((s) => first.services.sessions.authenticate(revoked)?.id === s.id)!.id;
      assert.equal((await first.request(`/api/gateway/desktop/sessions/${revokedId}`, { method: 'DELETE', auth: 'token' })).status, 200);
      const token = first.token;
      await first.close();

      const second = await startTestGateway({ dataDir });
      try {
        assert.equal(second.token, token);
        assert.equal((await second.request('/api/gateway/version', { auth: { session: kept, origin: APP } })).status, 200);
        assert.equal((await second.request('/api/gateway/version', { auth: { session: revoked, origin: APP } })).status, 401);
        const listed = (await second.request('/api/gateway/desktop/policies', { auth: 'token' })).json.policies;
        const learnings = listed.find((p: { callerKind: string; operation: string; access: string }) =>
          p.callerKind === 'origin' && p.operation === 'learnings' && p.access === 'read');
        assert.equal(learnings.decision, 'deny');
        assert.equal(learnings.source, 'user');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
