import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROUTE_TABLE } from '../../shared/operations.js';
import { startTestGateway, type TestGateway } from './testing.js';

describe('GET /api/gateway/openapi.json', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw.close());

  it('describes every route of the table with its operation and schemas', async () => {
    const res = await gw.request('/api/gateway/openapi.json', { auth: 'token' });
    assert.equal(res.status, 200);
    const doc = res.json;
    assert.equal(doc.openapi, '3.1.0');
    for (const entry of ROUTE_TABLE) {
      const path = entry.path.replace(/[:*]([A-Za-z0-9_]+)/g, '{$1}');
      const op = doc.paths[path]?.[entry.method.toLowerCase()];
      assert.ok(op, `${entry.method} ${entry.path}`);
      assert.equal(op['x-symphony-operation'], entry.kind);
    }
    const challenge = doc.paths['/gateway-auth/challenge'].post;
    assert.deepEqual(challenge.requestBody.content['application/json'].schema.required, ['origin']);
    const approvals = doc.paths['/api/gateway/desktop/approvals'].get;
    assert.ok(approvals.responses['200'].content['application/json'].schema.properties.approvals);
    assert.deepEqual(doc.paths['/health'].get.security, []);
  });
});
