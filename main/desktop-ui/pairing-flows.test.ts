// The two pairings the Electron shell performs, run against a real gateway built with the
// options main/app/main.ts passes: the window over IPC (a local challenge for app://symphony)
// and a web page through the deep link (a local challenge for the page's origin).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pairShortCode, pairedPageUrl, parsePairLink } from '../auth/deep-link.js';
import { startTestGateway, type TestGateway } from '../gateway/testing.js';
import { RENDERER_ORIGIN } from './renderer-files.js';

let gw: TestGateway;

before(async () => {
  gw = await startTestGateway({ rendererOrigins: [RENDERER_ORIGIN] });
});

after(async () => {
  await gw.close();
});

async function exchange(challengeToken: string, origin: string) {
  return gw.request('/gateway-auth/exchange', { method: 'POST', json: { challengeToken }, headers: { Origin: origin } });
}

test('the window pairs with a challenge minted for app://symphony and is the renderer caller', async () => {
  const preflight = await gw.request('/api/gateway/desktop/sessions', {
    method: 'OPTIONS',
    headers: { Origin: RENDERER_ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-desktop-session-token' },
  });
  assert.equal(preflight.headers['access-control-allow-origin'], RENDERER_ORIGIN);

  const challenge = gw.services.challenges.mint(RENDERER_ORIGIN); // what the IPC pair() handler does
  const paired = await exchange(challenge.challengeToken, RENDERER_ORIGIN);
  assert.equal(paired.status, 200, paired.text);
  const auth = { session: paired.json.sessionToken as string, origin: RENDERER_ORIGIN };
  // Desktop-only routes answer the renderer, never a paired web page.
  const sessions = await gw.request('/api/gateway/desktop/sessions', { auth });
  assert.equal(sessions.status, 200, sessions.text);
  assert.equal((await exchange(challenge.challengeToken, RENDERER_ORIGIN)).status >= 400, true, 'a challenge is single use');
});

test('a deep-link pairing gives the page an origin session, bound to that origin only', async () => {
  const origin = 'https://app.example.test';
  const state = 'state_0123456789abcdef';
  const request = parsePairLink(`symphony-desktop://pair?origin=${encodeURIComponent(origin)}&state=${state}`);
  assert.equal(request.shortCode, pairShortCode(origin, state));

  // After the user clicks "Pair": main mints and opens this URL in the browser.
  const challenge = gw.services.challenges.mint(request.origin);
  const opened = new URL(pairedPageUrl(request, challenge.challengeToken, gw.port));
  const fragment = new URLSearchParams(opened.hash.slice(1));
  assert.equal(fragment.get('port'), String(gw.port));

  // Another origin presenting the token burns it and gets nothing.
  const stolen = gw.services.challenges.mint(request.origin);
  assert.equal((await exchange(stolen.challengeToken, 'https://evil.example.test')).status >= 400, true);

  const paired = await exchange(fragment.get('challenge')!, origin);
  assert.equal(paired.status, 200, paired.text);
  const auth = { session: paired.json.sessionToken as string, origin };
  assert.equal((await gw.request('/api/gateway/version', { auth })).status, 200);
  assert.equal((await gw.request('/api/gateway/desktop/sessions', { auth })).status, 403, 'a web page is not the desktop');
});
