// The cloud web app as it really calls the gateway: an https page on a public origin.
// Chromium applies Local Network Access to a public page calling loopback, so the page
// needs the user's `local-network-access` permission; with it, the CORS preflight and
// the request reach the gateway. The page pairs through /gateway-auth/exchange and
// calls an authenticated route; a page from an origin that never paired gets no ACAO.
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/browser.js';
import { HeadlessGateway } from './support/gateway.js';
import { httpsSiteUnavailable, startHttpsSite, type HttpsSite } from './support/https-site.js';

const APP_HOST = 'app.example.test';
const STRANGER_HOST = 'stranger.example.test';

interface SeenResponse {
  url: string;
  type: string;
  status: number;
  acao: string | undefined;
}

/** Every response from the gateway the page's network stack saw, preflights included. */
async function watchGatewayResponses(context: BrowserContext, page: Page, gatewayUrl: string): Promise<SeenResponse[]> {
  const seen: SeenResponse[] = [];
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.responseReceived', ({ response, type }) => {
    if (!response.url.startsWith(gatewayUrl)) return;
    const headers = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    seen.push({ url: response.url, type, status: response.status, acao: headers['access-control-allow-origin'] });
  });
  return seen;
}

/** What the web app's desktop client does: probe /health, exchange, then call the API. */
function pairAndCall(page: Page, gatewayUrl: string, challengeToken: string) {
  return page.evaluate(
    async ({ gatewayUrl, challengeToken }) => {
      const health = await fetch(`${gatewayUrl}/health`, { mode: 'cors', credentials: 'omit' });
      const probe = (await health.json()) as { status: string; port: number };
      const exchange = await fetch(`${gatewayUrl}/gateway-auth/exchange`, {
        method: 'POST',
        mode: 'cors',
        credentials: 'omit',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ challengeToken }),
      });
      const session = (await exchange.json()) as { sessionToken: string; expiresAt: string; origin: string };
      const version = await fetch(`${gatewayUrl}/api/gateway/version`, {
        mode: 'cors',
        credentials: 'omit',
        headers: { 'X-Desktop-Session-Token': session.sessionToken },
      });
      return {
        probe,
        exchangeStatus: exchange.status,
        sessionOrigin: session.origin,
        sessionToken: session.sessionToken,
        versionStatus: version.status,
        version: (await version.json()) as { version: string },
        requestId: version.headers.get('X-Request-Id'),
      };
    },
    { gatewayUrl, challengeToken },
  );
}

/** A fetch from the page; resolves with the status, or the error's text when it fails. */
function tryFetch(page: Page, url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const response = await fetch(url, { ...init, mode: 'cors', credentials: 'omit' });
        return { status: response.status, error: null };
      } catch (error) {
        return { status: null, error: String(error) };
      }
    },
    { url, init },
  );
}

test.describe('an external https tab on a public origin', () => {
  const unavailable = httpsSiteUnavailable();
  let gateway: HeadlessGateway;
  let site: HttpsSite;

  test.beforeAll(async () => {
    if (unavailable) return;
    gateway = await HeadlessGateway.start();
    site = await startHttpsSite([APP_HOST, STRANGER_HOST]);
  });

  test.afterAll(async () => {
    await site?.close();
    await gateway?.stop();
  });

  test('pairs with real CORS preflights under Local Network Access; a stranger gets no ACAO', async () => {
    const testInfo = test.info();
    if (unavailable) console.log(`skipped: ${unavailable}`);
    test.skip(Boolean(unavailable), unavailable ?? '');
    // As the web app's client does: it reaches the gateway at localhost (the gateway listens on 127.0.0.1).
    const gatewayUrl = `http://localhost:${gateway.port}`;
    const appOrigin = `https://${APP_HOST}:${site.port}`;
    const strangerOrigin = `https://${STRANGER_HOST}:${site.port}`;
    await gateway.cli('config', '--allowed-origin', appOrigin);

    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        ...CHROMIUM_ARGS,
        `--host-resolver-rules=MAP ${APP_HOST} 127.0.0.1,MAP ${STRANGER_HOST} 127.0.0.1`,
        // The site is public; the gateway stays loopback, so calls to it are local-network requests.
        `--ip-address-space-overrides=127.0.0.1:${site.port}=public`,
      ],
    });
    try {
      // The web app, with the user's permission to reach the local network.
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      await context.grantPermissions(['local-network-access'], { origin: appOrigin });
      const page = await context.newPage();
      const seen = await watchGatewayResponses(context, page, gatewayUrl);
      await page.goto(`${appOrigin}/`);
      expect(await page.evaluate('window.isSecureContext')).toBe(true);

      const { challengeToken } = await gateway.pair(appOrigin);
      const result = await pairAndCall(page, gatewayUrl, challengeToken);
      expect(result.probe).toMatchObject({ status: 'ok', port: gateway.port });
      expect(result.exchangeStatus).toBe(200);
      expect(result.sessionOrigin).toBe(appOrigin);
      expect(result.versionStatus).toBe(200);
      expect(result.version.version).toEqual(expect.any(String));
      expect(result.requestId, 'X-Request-Id is exposed to the page').toBeTruthy();
      const preflights = seen.filter((r) => r.type === 'Preflight');
      expect(preflights.length, `preflights seen: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(2);
      for (const response of seen) expect(response.acao, response.url).toBe(appOrigin);
      await testInfo.attach('gateway-responses.json', { body: JSON.stringify(seen, null, 2), contentType: 'application/json' });

      // The same page without the permission: Chromium never lets the request out.
      const unpermitted = await browser.newContext({ ignoreHTTPSErrors: true });
      const blockedPage = await unpermitted.newPage();
      const blockedSeen = await watchGatewayResponses(unpermitted, blockedPage, gatewayUrl);
      await blockedPage.goto(`${appOrigin}/`);
      const blocked = await tryFetch(blockedPage, `${gatewayUrl}/api/gateway/version`, {
        headers: { 'X-Desktop-Session-Token': result.sessionToken },
      });
      expect(blocked.status).toBeNull();
      expect(blocked.error).toContain('Failed to fetch');
      expect(blockedSeen, 'not even a preflight reached the gateway').toEqual([]);
      await unpermitted.close();

      // An origin that never paired, even with the permission and a stolen session token.
      await context.grantPermissions(['local-network-access'], { origin: strangerOrigin });
      const stranger = await context.newPage();
      const strangerSeen = await watchGatewayResponses(context, stranger, gatewayUrl);
      await stranger.goto(`${strangerOrigin}/`);
      const stolen = await tryFetch(stranger, `${gatewayUrl}/api/gateway/version`, {
        headers: { 'X-Desktop-Session-Token': result.sessionToken },
      });
      const exchange = await tryFetch(stranger, `${gatewayUrl}/gateway-auth/exchange`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ challengeToken: 'x'.repeat(43) }),
      });
      for (const attempt of [stolen, exchange]) {
        expect(attempt.status).toBeNull();
        expect(attempt.error).toContain('Failed to fetch');
      }
      expect(strangerSeen.length, 'the preflights reached the gateway').toBeGreaterThanOrEqual(1);
      for (const response of strangerSeen) expect(response.acao, `${response.type} ${response.url}`).toBeUndefined();
    } finally {
      await browser.close();
    }
  });
});
