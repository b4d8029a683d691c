// How CLI commands find the gateway that serves a data dir: `serve` writes its port
// and pid to <dataDir>/gateway.json (0600); commands talk to it with the gateway token.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ErrorReply } from '../../shared/schemas/errors.js';
import { AppError } from '../errors.js';
import { openSecretStore } from '../secrets/open.js';
import { openDatabase } from '../store/database.js';
import { SettingsStore } from '../store/settings.js';

export interface RunningGatewayInfo {
  port: number;
  pid: number;
}

const fileOf = (dataDir: string) => join(dataDir, 'gateway.json');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live gateway of this data dir, or null (a stale file from a crash is ignored). */
export function findRunningGateway(dataDir: string): RunningGatewayInfo | null {
  if (!existsSync(fileOf(dataDir))) return null;
  try {
    const info = JSON.parse(readFileSync(fileOf(dataDir), 'utf8')) as RunningGatewayInfo;
    return Number.isInteger(info.port) && Number.isInteger(info.pid) && isAlive(info.pid) ? info : null;
  } catch {
    return null;
  }
}

export function readRunningGateway(dataDir: string): RunningGatewayInfo {
  const info = findRunningGateway(dataDir);
  if (!info) throw new Error(`No gateway is running for ${dataDir}; start it with \`symphony-gateway serve\`.`);
  return info;
}

export function writeRunningGateway(dataDir: string, info: RunningGatewayInfo): void {
  writeFileSync(fileOf(dataDir), JSON.stringify(info), { mode: 0o600 });
}

export function removeRunningGateway(dataDir: string, pid: number): void {
  if (findRunningGateway(dataDir)?.pid === pid) rmSync(fileOf(dataDir), { force: true });
}

async function gatewayToken(dataDir: string): Promise<string> {
  const db = openDatabase(join(dataDir, 'symphony.db'));
  try {
    const secrets = await openSecretStore({ dataDir, settings: new SettingsStore(db), log: pino({ level: 'warn' }, pino.destination(2)) });
    const token = await secrets.get('gateway-token');
    if (!token) throw new Error('This data dir has no gateway token yet; run `symphony-gateway serve` once.');
    return token;
  } finally {
    db.close();
  }
}

/** One authenticated JSON request to the running gateway; error replies become AppErrors. */
export async function gatewayRequest(
  dataDir: string,
  running: RunningGatewayInfo,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const token = await gatewayToken(dataDir);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { 'X-Desktop-Gateway-Token': token, Host: `127.0.0.1:${running.port}` };
  if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) });
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: running.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
  const json = text ? (JSON.parse(text) as Partial<ErrorReply> & Record<string, unknown>) : undefined;
  if (status >= 400) throw new AppError(status, json?.code ?? `http_${status}`, json?.error ?? `HTTP ${status}`);
  return json;
}
