// Pairing end to end: local challenges, and cloud challenges verified by a mock cloud
// on loopback that checks what the gateway sends it, in the cloud's reply shapes.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PairingService } from '../auth/pairing.js';
import { errorCode, startTestGateway, type TestGateway } from './testing.js';

const APP = 'https://app.example.test';
const API_KEY = 'sk-desktop-owner-1';

interface CloudCall {
  authorization: string | undefined;
  body: { challengeToken: string; requestOrigin: string; userAgent: string };
}

/** The cloud's verify endpoint: knows which challenges it issued, to which origin and owner. */
class MockCloud {
  server!: Server;
  calls: CloudCall[] = [];
  issued = new Map<string, { origin: string; owner: string; used: boolean }>();
  delayMs = 0;
  wrapped = false;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    this.calls.push({ authorization: req.headers.authorization, body });
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (req.method !== 'POST' || req.url !== '/compute-targets/local-auth/verify') return send(404, { error: 'not found' });
    const challenge = this.issued.get(body.challengeToken);
    if (req.headers.authorization === 'Bearer sk-revoked-key') return send(401, { error: 'API key revoked' });
    if (!challenge) return send(404, { error: { message: 'Unknown challenge' } });
    if (req.headers.authorization !== `Bearer ${challenge.owner}`) return send(403, { error: { message: 'Challenge belongs to another account' } });
    if (challenge.origin !== body.requestOrigin) return send(403, { error: { message: 'Origin mismatch' } });
    if (challenge.used) return send(409, { error: { message: 'Challenge already used' } });
    challenge.used = true;
    const verified = { ok: true, sessionTtlSeconds: 3600, challengeExpiresAt: new Date(Date.now() + 120_000).toISOString() };
    send(200, this.wrapped ? { success: true, data: verified } : verified);
  }

  issue(token: string, origin = APP, owner = API_KEY): string {
    this.issued.set(token, { origin, owner, used: false });
    return token;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('pairing', () => {
  let gw: TestGateway;
  let cloud: MockCloud;
  let cloudUrl: string;

  const exchange = (challengeToken: string, origin: string | null = APP) =>
    gw.request('/gateway-auth/exchange', {
      method: 'POST',
      json: { challengeToken },
      headers: origin ? { Origin: origin, 'User-Agent': 'test-browser/1.0' } : { 'User-Agent': 'test-browser/1.0' },
    });
  const sessionCount = () => gw.services.sessions.list().length;
  const mint = async (origin = APP) =>
    (await gw.request('/gateway-auth/challenge', { method: 'POST', json: { origin }, auth: 'token' })).json.challengeToken as string;

  before(async () => {
    cloud = new MockCloud();
    cloudUrl = await cloud.start();
    gw = await startTestGateway();
  });
  beforeEach(async () => {
    gw.services.config.setApiOrigin(cloudUrl);
    await gw.services.secrets.set('desktop-api-key', API_KEY);
    cloud.delayMs = 0;
    cloud.wrapped = false;
    cloud.calls = [];
  });
  after(async () => {
    await gw.close();
    await cloud.close();
  });

  it('trades a local challenge once for a session bound to its origin', async () => {
    const token = await mint();
    const res = await exchange(token);
    assert.equal(res.status, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.json.origin, APP);
    assert.ok(Date.parse(res.json.expiresAt) > Date.now());
    assert.equal((await gw.request('/api/gateway/version', { auth: { session: res.json.sessionToken, origin: APP } })).status, 200);
    const replay = await exchange(token);
    assert.equal(replay.status, 403);
    assert.equal(replay.json.code, 'challenge_used');
    assert.equal(cloud.calls.length, 0, 'a local challenge never goes to the cloud');
  });

  it('stores only a hash of the session token', async () => {
    const res = await exchange(await mint());
    const rows = gw.services.db.prepare('SELECT * FROM sessions').all();
    assert.ok(!JSON.stringify(rows).includes(res.json.sessionToken));
  });

  it('refuses a local challenge from another origin and burns it', async () => {
    const token = await mint();
    const before = sessionCount();
    const wrong = await exchange(token, 'https://evil.example.test');
    assert.equal(wrong.status, 403);
    assert.equal(wrong.json.code, 'challenge_origin_mismatch');
    assert.equal((await exchange(token)).status, 403);
    assert.equal(sessionCount(), before);
  });

  it('refuses null, wildcard and path origins when minting', async () => {
    for (const origin of ['null', '*', 'https://*.example.test', `${APP}/path`, 'file:///etc', 'https://u:p@app.example.test']) {
      const res = await gw.request('/gateway-auth/challenge', { method: 'POST', json: { origin }, auth: 'token' });
      assert.equal(res.status, 400, origin);
      assert.equal(res.json.code, 'invalid_origin');
    }
  });

  it('needs an Origin on the exchange', async () => {
    const res = await exchange(await mint(), null);
    assert.equal(res.status, 400);
    assert.equal(res.json.code, 'origin_required');
  });

  it('verifies a cloud challenge with the desktop API key and the calling origin', async () => {
    const token = cloud.issue('cloud-challenge-valid-000001');
    const res = await exchange(token);
    assert.equal(res.status, 200, res.text);
    assert.equal(cloud.calls.length, 1);
    assert.equal(cloud.calls[0].authorization, `Bearer ${API_KEY}`);
    assert.deepEqual(cloud.calls[0].body, { challengeToken: token, requestOrigin: APP, userAgent: 'test-browser/1.0' });
    const ttl = Date.parse(res.json.expiresAt) - Date.now();
    assert.ok(ttl > 3500_000 && ttl <= 3600_000, 'session lives as long as the cloud says');
  });

  it('accepts the cloud reply wrapped as {success, data}', async () => {
    cloud.wrapped = true;
    assert.equal((await exchange(cloud.issue('cloud-challenge-wrapped-01'))).status, 200);
  });

  it('never trades a cloud challenge twice, even before asking the cloud', async () => {
    const token = cloud.issue('cloud-challenge-reused-0001');
    assert.equal((await exchange(token)).status, 200);
    const replay = await exchange(token);
    assert.equal(replay.status, 403);
    assert.equal(replay.json.code, 'challenge_used');
    assert.equal(cloud.calls.length, 1);
  });

  it('claims a cloud challenge before asking the cloud: of three concurrent exchanges one pairs, with one cloud call', async () => {
    const origin = 'https://concurrent.example.test';
    const token = cloud.issue('cloud-challenge-concurrent-01', origin);
    cloud.delayMs = 200;
    const before = sessionCount();
    const replies = await Promise.all([exchange(token, origin), exchange(token, origin), exchange(token, origin)]);
    assert.deepEqual(replies.map((r) => r.status).sort(), [200, 403, 403]);
    assert.deepEqual(replies.filter((r) => r.status === 403).map(errorCode), ['challenge_used', 'challenge_used']);
    assert.equal(cloud.calls.length, 1);
    assert.equal(sessionCount(), before + 1);
  });

  it('a cloud challenge the cloud could not be asked about is not burned', async () => {
    const origin = 'https://retry.example.test';
    const token = cloud.issue('cloud-challenge-retry-after-down', origin);
    gw.services.config.setApiOrigin('http://127.0.0.1:9');
    assert.equal((await exchange(token, origin)).status, 502);
    gw.services.config.setApiOrigin(cloudUrl);
    assert.equal((await exchange(token, origin)).status, 200);
  });

  it("passes on the cloud's refusal as 403 (never 401): wrong origin, wrong owner, unknown, revoked key", async () => {
    const before = sessionCount();
    const wrongOrigin = await exchange(cloud.issue('cloud-challenge-other-origin', 'https://other.example.test'));
    assert.equal(wrongOrigin.status, 403);
    assert.match(wrongOrigin.json.error, /Origin mismatch/);
    const wrongOwner = await exchange(cloud.issue('cloud-challenge-other-owner1', APP, 'sk-someone-else'));
    assert.equal(wrongOwner.status, 403);
    assert.match(wrongOwner.json.error, /another account/);
    const unknown = await exchange('cloud-challenge-never-issued');
    assert.deepEqual([unknown.status, unknown.json.code], [403, 'cloud_rejected']);
    const key = await gw.services.secrets.get('desktop-api-key');
    await gw.services.secrets.set('desktop-api-key', 'sk-revoked-key');
    try {
      // A 401 would make the web client drop its session; the API key is the desktop's problem.
      const other = 'https://revoked.example.test';
      const revoked = await exchange(cloud.issue('cloud-challenge-revoked-key1', other, 'sk-revoked-key'), other);
      assert.deepEqual([revoked.status, revoked.json.code], [403, 'api_key_rejected']);
      assert.match(revoked.json.error, /symphony-gateway set-api-key/);
    } finally {
      await gw.services.secrets.set('desktop-api-key', key!);
    }
    assert.equal(sessionCount(), before);
  });

  it('answers 503 without an API key, 502 when the cloud is down, 504 when it is slow', async () => {
    await gw.services.secrets.delete('desktop-api-key');
    const noKey = await exchange(cloud.issue('cloud-challenge-no-key-0001'));
    assert.equal(noKey.status, 503);
    assert.match(noKey.json.error, /API key required/);
    await gw.services.secrets.set('desktop-api-key', API_KEY);

    gw.services.config.setApiOrigin('http://127.0.0.1:9'); // discard port: nothing listens
    const down = await exchange(cloud.issue('cloud-challenge-down-000001'));
    assert.equal(down.status, 502);
    assert.equal(down.json.code, 'cloud_unreachable');

    gw.services.config.setApiOrigin(cloudUrl);
    cloud.delayMs = 6_000;
    const slow = await exchange(cloud.issue('cloud-challenge-slow-000001'));
    assert.equal(slow.status, 504);
    assert.equal(slow.json.code, 'cloud_timeout');
  });

  it('rate limits failures per origin with Retry-After', async () => {
    const origin = 'https://guesser.example.test';
    let last;
    for (let i = 0; i < 12; i++) last = await exchange(`guess-${i}-xxxxxxxxxxxxxxxx`, origin);
    assert.equal(last!.status, 429);
    assert.ok(Number(last!.headers['retry-after']) > 0);
    // Another origin is not affected.
    assert.equal((await exchange(await mint())).status, 200);
  });

  it('only pairs from a loopback peer', async () => {
    const pairing = gw.services.pairing as PairingService;
    for (const peerAddress of ['192.168.1.20', '10.0.0.2', '::ffff:192.168.1.20', undefined]) {
      await assert.rejects(
        pairing.exchange({ challengeToken: 'x'.repeat(32), origin: APP, peerAddress, userAgent: '' }),
        (error: { status: number; code: string }) => error.status === 403 && error.code === 'not_loopback',
      );
    }
  });
});
