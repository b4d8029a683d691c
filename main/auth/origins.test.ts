import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOrigin } from './origins.js';

describe('parseOrigin', () => {
  it('accepts exact web origins and normalizes a trailing slash', () => {
    assert.equal(parseOrigin('https://app.example.com'), 'https://app.example.com');
    assert.equal(parseOrigin('https://app.example.com/'), 'https://app.example.com');
    assert.equal(parseOrigin('http://127.0.0.1:5173'), 'http://127.0.0.1:5173');
  });

  it('refuses null, wildcards, paths, credentials, queries and other schemes', () => {
    for (const value of ['', 'null', '*', 'https://*.example.com', 'https://app.example.com/x', 'https://a:b@app.example.com',
      'https://app.example.com?x=1', 'https://app.example.com#x', 'file:///etc/passwd', 'javascript:alert(1)', 'app.example.com',
      'HTTPS://APP.EXAMPLE.COM', 'https://app.example.com:443']) {
      assert.equal(parseOrigin(value), null, value);
    }
  });

  it('accepts a custom renderer scheme only when asked', () => {
    assert.equal(parseOrigin('app://symphony'), null);
    assert.equal(parseOrigin('app://symphony', ['app:']), 'app://symphony');
  });
});
