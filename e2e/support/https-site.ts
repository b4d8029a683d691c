// An https site with a self-signed certificate, standing in for the cloud web app on
// a public origin. Any host name mapped to 127.0.0.1 in Chromium reaches it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Symphony web app (test)</title></head>
<body><h1>Symphony web app</h1></body></html>`;

/** Why the site cannot run here (no openssl to make a certificate), or null. */
export function httpsSiteUnavailable(): string | null {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return null;
  } catch {
    // Node has no API to create an X.509 certificate; openssl is the one dependency.
    return 'openssl is not installed, so no certificate can be made for the https test site';
  }
}

export interface HttpsSite {
  port: number;
  close(): Promise<void>;
}

export async function startHttpsSite(hostNames: string[]): Promise<HttpsSite> {
  const dir = mkdtempSync(join(tmpdir(), 'symphony-e2e-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${hostNames[0]}`,
        '-addext', `subjectAltName=${hostNames.map((name) => `DNS:${name}`).join(',')}`,
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const server: Server = createServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(PAGE);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
