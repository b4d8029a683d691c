import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequest } from '../errors.js';
import {
  CODE_ALPHABET,
  findDeepLink,
  pairShortCode,
  pairedPageUrl,
  parsePairLink,
  validatePairOrigin,
} from './deep-link.js';

const STATE = 'abcdefghijklmnop_0123-XYZ';
const link = (query: string) => `symphony-desktop://pair?${query}`;

test('accepts https origins and http only on localhost / 127.0.0.1', () => {
  for (const origin of ['https://app.example.com', 'https://app.example.com:8443', 'http://localhost:5173', 'http://127.0.0.1:3000', 'http://localhost']) {
    assert.equal(validatePairOrigin(origin), origin);
  }
});

test('refuses null, wildcards, other schemes, paths, credentials and non-canonical spellings', () => {
  const refused = [
    'null',
    '',
    '*',
    'https://*.example.com',
    'http://app.example.com',
    'http://192.168.1.10:3000',
    'http://localhost.evil.com',
    'ftp://example.com',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'https://app.example.com/',
    'https://app.example.com/path',
    'https://app.example.com?x=1',
    'https://app.example.com#frag',
    'https://user:pw@app.example.com',
    'https://user@app.example.com',
    'https://APP.example.com',
    'https://app.example.com:443',
    'https://exämple.com',
    ' https://app.example.com',
  ];
  for (const origin of refused) {
    assert.throws(() => validatePairOrigin(origin), BadRequest, `should refuse ${JSON.stringify(origin)}`);
  }
});

test('parses a pairing link into origin, state and the short code', () => {
  const origin = 'https://app.example.com';
  const parsed = parsePairLink(link(new URLSearchParams({ origin, state: STATE }).toString()));
  assert.deepEqual(parsed, { origin, state: STATE, shortCode: pairShortCode(origin, STATE) });
  // Some platforms add a slash after the host.
  assert.equal(parsePairLink(`symphony-desktop://pair/?origin=${encodeURIComponent(origin)}&state=${STATE}`).origin, origin);
});

test('refuses malformed pairing links with a reason', () => {
  const origin = encodeURIComponent('https://app.example.com');
  const cases: Array<[string, RegExp]> = [
    ['not a url', /not a valid URL/],
    [`https://pair?origin=${origin}&state=${STATE}`, /must use symphony-desktop/],
    [`symphony-desktop://unpair?origin=${origin}&state=${STATE}`, /only symphony-desktop:\/\/pair/],
    [`symphony-desktop://pair/extra?origin=${origin}&state=${STATE}`, /only symphony-desktop:\/\/pair/],
    [`symphony-desktop://pair?state=${STATE}`, /exactly one origin/],
    [`symphony-desktop://pair?origin=${origin}&origin=${origin}&state=${STATE}`, /exactly one origin/],
    [`symphony-desktop://pair?origin=${origin}`, /exactly one state/],
    [`symphony-desktop://pair?origin=${origin}&state=short`, /16-128 characters/],
    [`symphony-desktop://pair?origin=${origin}&state=${STATE}%3Cscript%3E`, /16-128 characters/],
    [`symphony-desktop://pair?origin=null&state=${STATE}`, /not a valid URL origin/],
    [`symphony-desktop://pair?origin=${encodeURIComponent('http://evil.example')}&state=${STATE}`, /must use https/],
    [`symphony-desktop://pair?origin=${origin}&state=${STATE}#x`, /unexpected parts/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parsePairLink(input), (error: unknown) => error instanceof BadRequest && message.test(error.message), input);
  }
});

// The page computes the code in the browser; this is that computation written the way the
// page would write it (WebCrypto + a bit string), so the two implementations must agree.
async function codeAsThePageComputesIt(origin: string, state: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${origin}\n${state}`)));
  const bits = Array.from(digest.slice(0, 5), (byte) => byte.toString(2).padStart(8, '0')).join('');
  const chars = bits.match(/.{5}/g)!.map((group) => CODE_ALPHABET[parseInt(group, 2)]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}

test('the short code matches the page-side algorithm and depends on origin and state', async () => {
  const origin = 'https://app.example.com';
  const code = pairShortCode(origin, STATE);
  assert.match(code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  assert.equal(code, await codeAsThePageComputesIt(origin, STATE));
  assert.equal(pairShortCode(origin, STATE), code);
  assert.notEqual(pairShortCode(origin, `${STATE}x`), code);
  assert.notEqual(pairShortCode('https://evil.example.com', STATE), code);
});

test('finds the deep link among command-line arguments', () => {
  const deep = link(`origin=x&state=${STATE}`);
  assert.equal(findDeepLink(['/opt/Symphony Desktop/symphony-desktop', '--no-sandbox', deep]), deep);
  assert.equal(findDeepLink(['/usr/bin/electron', '.']), undefined);
});

test('the paired page URL carries challenge, state and port in the fragment only', () => {
  const url = new URL(pairedPageUrl({ origin: 'https://app.example.com', state: STATE }, 'tok/en+=', 19433));
  assert.equal(url.origin, 'https://app.example.com');
  assert.equal(url.pathname, '/desktop/paired');
  assert.equal(url.search, '');
  const fragment = new URLSearchParams(url.hash.slice(1));
  assert.deepEqual(Object.fromEntries(fragment), { challenge: 'tok/en+=', state: STATE, port: '19433' });
  assert.throws(() => pairedPageUrl({ origin: 'https://a.example.com/evil', state: STATE }, 't', 1), BadRequest);
});
