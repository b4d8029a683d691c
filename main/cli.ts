#!/usr/bin/env node
// Headless entry: `symphony-gateway serve|token|pair|sessions|revoke|approvals|approve|deny|set-api-key|config|relay`.
// Every command takes --data-dir and reads the same data dir as `serve`.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { z } from 'zod';
import type { RelayStatusResponse } from '../shared/schemas/relay.js';
import { requireOrigin } from './auth/origins.js';
import { findRunningGateway, gatewayRequest, readRunningGateway, removeRunningGateway, writeRunningGateway } from './cli/running-gateway.js';
import { isLogLevel, LOG_LEVELS, type LogLevel } from './config/gateway-config.js';
import { resolveDataDir } from './config/paths.js';
import { AppError } from './errors.js';
import { startGateway, stopGateway } from './gateway/server.js';
import { guardProcess } from './process-guard.js';
import type { SecretStoreMode } from './secrets/open.js';
import { createServices, type Services } from './services.js';
import { isManagedBinary, MANAGED_BINARIES } from './supervisor/binaries.js';
import type { BinaryPathsUpdate } from './supervisor/binary-settings.js';
import { fdDestination, logFilePath, openGatewayLog, tailLogFiles } from './telemetry/log-files.js';
import type { PruneOutcome } from './symphony/worktree-retention.js';

const USAGE = `symphony-gateway <command> [--data-dir DIR]

  serve [--port N] [--secret-store auto|keychain|file] [--log-level L] [--stop-runs-on-exit]
                                                        run the gateway (prints one "listening" JSON line); ticket runs
                                                        keep going after it stops unless --stop-runs-on-exit
  token                                                 print the gateway token
  rotate-token                                          replace the gateway token (the old one is refused at once)
  logs [--follow] [--lines N] [--json]                  print the gateway's log (<data dir>/logs/gateway.log, rotated by size)
  pair --origin ORIGIN [--json]                          mint a one-time pairing challenge (gateway must run)
  pair --ui [--json]                                     a one-time link that opens the desktop UI paired (gateway must run)
  sessions [--json]                                      list paired sessions
  revoke SESSION_ID                                      revoke a session
  approvals [--json]                                     list requests waiting for approval (gateway must run)
  approve APPROVAL_ID [--always]                         allow a waiting request (once, or always)
  deny APPROVAL_ID                                       deny a waiting request
  set-api-key                                            read the desktop API key from stdin into the keychain
  config [--api-origin URL] [--relay-origin URL|default] [--require-signed-commands on|off] [--allowed-origin O]... [--remove-allowed-origin O]... [--workspace-root DIR] [--log-level L|default]
         [--agent-env KEY=VALUE|KEY]... [--unset KEY]... [--agent-confinement on|off] [--binary NAME=/path|NAME=]...
         [--max-agents N] [--run-viewer-max-gib N] [--run-viewer-max-days N] [--json]
                                                        change settings (--allowed-origin adds one, --remove-allowed-origin removes one;
                                                        --agent-env KEY=VALUE sets a variable for agent CLIs, --agent-env KEY passes KEY
                                                        from the gateway's environment, --unset KEY forgets either; --binary NAME= clears;
                                                        --max-agents: agents one paired origin may run at once, default 4, 16 more wait;
                                                        run-viewer uploads kept: default 5 GiB, 7 days, oldest removed first)
  relay status|pause|resume [--json]                    the cloud relay: its state, or stop/start taking cloud commands
  relay keys [--json] | trust-key KEY [--label L] | untrust-key FINGERPRINT
                                                        the Ed25519 keys whose signed cloud commands run here
  runs [--json]                                         ticket runs with their status, tokens, cost, worktree size and retention
  runs prune [--dry-run] [--json]                       remove finished runs' worktrees that are due (never with uncommitted changes)
  runs retention [--days N] [--auto on|off]             how long merged or discarded runs' worktrees are kept (default 7 days, pruned automatically)
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  'secret-store': { type: 'string' },
  origin: { type: 'string' },
  json: { type: 'boolean' },
  always: { type: 'boolean' },
  'api-origin': { type: 'string' },
  'allowed-origin': { type: 'string', multiple: true },
  'remove-allowed-origin': { type: 'string', multiple: true },
  'workspace-root': { type: 'string' },
  'relay-origin': { type: 'string' },
  'log-level': { type: 'string' },
  'require-signed-commands': { type: 'string' },
  'agent-env': { type: 'string', multiple: true },
  unset: { type: 'string', multiple: true },
  'agent-confinement': { type: 'string' },
  binary: { type: 'string', multiple: true },
  'max-agents': { type: 'string' },
  'run-viewer-max-gib': { type: 'string' },
  'run-viewer-max-days': { type: 'string' },
  label: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  lines: { type: 'string', short: 'n' },
  ui: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'stop-runs-on-exit': { type: 'boolean' },
  days: { type: 'string' },
  auto: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

async function main(argv: string[]): Promise<number> {
  const { values: flags, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const [command, ...rest] = positionals;
  if (flags.help || !command) {
    process.stdout.write(USAGE);
    return command || flags.help ? 0 : 2;
  }
  const dataDir = resolveDataDir(flags['data-dir']);
  switch (command) {
    case 'serve':
      return serve(dataDir, flags);
    case 'token':
      return withServices(dataDir, flags, async (services) => print(services.gatewayToken));
    case 'pair':
      return pair(dataDir, flags);
    case 'logs':
      return logs(dataDir, flags);
    case 'rotate-token':
      return rotateToken(dataDir, flags);
    case 'sessions':
      return withServices(dataDir, flags, async (services) => listSessions(services, Boolean(flags.json)));
    case 'revoke':
      return revoke(dataDir, flags, required(rest[0], 'SESSION_ID'));
    case 'approvals':
      return approvals(dataDir, Boolean(flags.json));
    case 'approve':
      return decide(dataDir, required(rest[0], 'APPROVAL_ID'), flags.always ? 'allow_always' : 'allow_once');
    case 'deny':
      return decide(dataDir, required(rest[0], 'APPROVAL_ID'), 'deny');
    case 'set-api-key':
      return withServices(dataDir, flags, setApiKey);
    case 'config':
      return withServices(dataDir, flags, (services) => config(services, flags));
    case 'relay':
      if (['keys', 'trust-key', 'untrust-key'].includes(rest[0] ?? '')) return withServices(dataDir, flags, (services) => relayKeys(services, flags, rest));
      return relay(dataDir, flags, required(rest[0], 'status|pause|resume'));
    case 'runs':
      return runs(dataDir, flags, rest[0] ?? 'list');
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

class UsageError extends Error {}

function required(value: string | undefined, name: string): string {
  if (!value) throw new UsageError(`Missing ${name}.`);
  return value;
}

function print(line: string): number {
  process.stdout.write(line + '\n');
  return 0;
}

function secretStoreMode(flags: Flags): SecretStoreMode {
  const mode = flags['secret-store'] ?? 'auto';
  if (mode !== 'auto' && mode !== 'keychain' && mode !== 'file') throw new UsageError('--secret-store takes auto, keychain or file.');
  return mode;
}

/** Commands that only read or change the data dir open the services quietly and close them. */
async function withServices(dataDir: string, flags: Flags, action: (services: Services) => Promise<number>): Promise<number> {
  const services = await createServices({
    dataDir,
    secretStore: secretStoreMode(flags),
    log: pino({ level: 'warn' }, pino.destination(2)),
  });
  try {
    return await action(services);
  } finally {
    await services.close();
  }
}

async function serve(dataDir: string, flags: Flags): Promise<number> {
  const port = flags.port === undefined ? undefined : Number(flags.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError('--port takes 0-65535.');
  // Logs go to the rotating file under the data dir and to stderr as JSON lines; stdout carries only the "listening" line.
  const flagLevel = flags['log-level'];
  if (flagLevel !== undefined && !isLogLevel(flagLevel)) throw new UsageError(`--log-level takes ${LOG_LEVELS.join(', ')}.`);
  const other = findRunningGateway(dataDir);
  if (other) throw new Error(`A gateway (pid ${other.pid}) already serves ${dataDir} on port ${other.port}.`);
  const gatewayLog = openGatewayLog({ dataDir, level: flagLevel ?? process.env.SYMPHONY_LOG_LEVEL ?? 'info', tee: fdDestination(2) });
  const log = gatewayLog.log;
  guardProcess(log);
  const services = await createServices({ dataDir, secretStore: secretStoreMode(flags), gatewayLog, reapOrphans: true, logLevelFixed: flagLevel !== undefined, stopRunsOnExit: Boolean(flags['stop-runs-on-exit']) });
  const gateway = await startGateway(services, { port }).catch(async (error: unknown) => {
    await services.close();
    throw error;
  });
  writeRunningGateway(dataDir, { port: gateway.port, pid: process.pid });
  process.stdout.write(JSON.stringify({ event: 'listening', url: gateway.url, port: gateway.port, version: services.version }) + '\n');
  // For a person (as Jupyter prints its login URL): a one-time link that opens the UI paired.
  const challenge = services.challenges.mint(gateway.url);
  process.stderr.write(
    `\nSymphony Desktop gateway on ${gateway.url} (log: ${gatewayLog.file})\n` +
      `Open the desktop UI (one-time link, expires ${challenge.expiresAt}):\n  ${uiPairingUrl(gateway.url, challenge.challengeToken)}\n` +
      `For a fresh link later: symphony-gateway pair --ui${flags['data-dir'] ? ` --data-dir ${flags['data-dir']}` : ''}\n\n`,
  );
  const stopping = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // Once the first requests' routes are in (they are what a client waits for): read the login
  // shell's PATH in the background (a GUI-launched app needs it to find the CLIs), and load and
  // start the relay client (its zod schemas load then, not before the port opens).
  let stopped = false;
  void gateway.ready
    .then(() => {
      if (!stopped) services.supervisor.binaries.probeLoginShell();
      return services.load('relay');
    })
    .then(
      () => (stopped ? undefined : services.relay.start()),
      (error: unknown) => log.error({ err: error }, 'the relay client could not load'),
    );
  await stopping;
  stopped = true;
  log.info('stopping');
  removeRunningGateway(dataDir, process.pid);
  await stopGateway(gateway, services);
  return 0;
}

/** The gateway's own /ui/ with a challenge in the fragment (never sent to a server): the page pairs itself. */
function uiPairingUrl(gatewayOrigin: string, challengeToken: string): string {
  return `${gatewayOrigin}/ui/#challenge=${encodeURIComponent(challengeToken)}`;
}

async function pair(dataDir: string, flags: Flags): Promise<number> {
  const running = readRunningGateway(dataDir);
  if (flags.ui && flags.origin) throw new UsageError('pair takes --ui or --origin ORIGIN, not both.');
  const origin = flags.ui ? `http://127.0.0.1:${running.port}` : requireOrigin(required(flags.origin, '--origin (or --ui)'), '--origin', ['app:']);
  const challenge = (await gatewayRequest(dataDir, running, 'POST', '/gateway-auth/challenge', { origin })) as {
    challengeToken: string;
    origin: string;
    expiresAt: string;
  };
  const ownOrigin = [`http://127.0.0.1:${running.port}`, `http://localhost:${running.port}`].includes(origin);
  const uiUrl = ownOrigin ? uiPairingUrl(origin, challenge.challengeToken) : undefined;
  if (flags.json) return print(JSON.stringify(uiUrl ? { ...challenge, url: uiUrl } : challenge));
  if (flags.ui && uiUrl) return print(`Open the desktop UI (single use, expires ${challenge.expiresAt}):\n  ${uiUrl}`);
  print(`Challenge for ${challenge.origin} (single use, expires ${challenge.expiresAt}):`);
  print(`  ${challenge.challengeToken}`);
  if (uiUrl) print(`Open the desktop UI with (single use, expires ${challenge.expiresAt}):\n  ${uiUrl}`);
  return 0;
}

async function logs(dataDir: string, flags: Flags): Promise<number> {
  const count = flags.lines === undefined ? 100 : Number(flags.lines);
  if (!Number.isInteger(count) || count < 0) throw new UsageError('--lines takes a whole number.');
  const { followLogFile, formatLogLine } = await import('./cli/logs.js');
  const show = (line: string) => process.stdout.write((flags.json ? line : formatLogLine(line)) + '\n');
  const lines = tailLogFiles(dataDir, count);
  if (lines.length === 0 && !flags.follow) {
    process.stderr.write(`No log yet at ${logFilePath(dataDir)} (the gateway writes it while it serves).\n`);
    return 0;
  }
  lines.forEach(show);
  if (!flags.follow) return 0;
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  await followLogFile(logFilePath(dataDir), show, stop.signal);
  return 0;
}

/** Through the running gateway when there is one, so the old token is refused on its very next request. */
async function rotateToken(dataDir: string, flags: Flags): Promise<number> {
  const running = findRunningGateway(dataDir);
  if (running) await gatewayRequest(dataDir, running, 'POST', '/api/gateway/desktop/gateway-token/rotate');
  else await withServices(dataDir, flags, async (services) => (await services.gatewayTokens.rotate(), 0));
  return print('Replaced the gateway token; the old one is refused. Tools that hold it need the new one: `symphony-gateway token`.');
}

async function listSessions(services: Services, json: boolean): Promise<number> {
  const sessions = services.sessions.list();
  if (json) return print(JSON.stringify({ sessions }));
  if (sessions.length === 0) return print('No paired sessions.');
  for (const s of sessions) {
    print(`${s.id}  ${s.kind.padEnd(8)}  ${s.origin}  last used ${new Date(s.lastUsedAt).toISOString()}  expires ${new Date(s.expiresAt).toISOString()}`);
  }
  return 0;
}

/** Through the running gateway when there is one, so the session is refused on its very next request. */
async function revoke(dataDir: string, flags: Flags, id: string): Promise<number> {
  const running = findRunningGateway(dataDir);
  const revoked = running
    ? await gatewayRequest(dataDir, running, 'DELETE', `/api/gateway/desktop/sessions/${encodeURIComponent(id)}`).then(
        () => true,
        (error: unknown) => (error instanceof AppError && error.status === 404 ? false : Promise.reject(error)),
      )
    : await withServices(dataDir, flags, async (services) => (services.sessions.revoke(id) ? 0 : 1)).then((code) => code === 0);
  if (!revoked) {
    process.stderr.write(`No session ${id}.\n`);
    return 1;
  }
  return print(`Revoked ${id}.`);
}

async function approvals(dataDir: string, json: boolean): Promise<number> {
  const running = readRunningGateway(dataDir);
  const { approvals: list } = (await gatewayRequest(dataDir, running, 'GET', '/api/gateway/desktop/approvals')) as {
    approvals: Array<{ id: string; operation: string; method: string; path: string; caller: { kind: string; origin: string | null; claimedSource: string | null }; claimedReason: string | null; args: unknown }>;
  };
  if (json) return print(JSON.stringify({ approvals: list }));
  if (list.length === 0) return print('Nothing is waiting for approval.');
  for (const a of list) {
    print(`${a.id}  ${a.operation}  ${a.method} ${a.path}  from ${a.caller.origin ?? a.caller.kind}`);
    if (a.caller.claimedSource) print(`    source (as the caller claims): ${a.caller.claimedSource}`);
    if (a.claimedReason) print(`    reason (as the caller claims): ${a.claimedReason}`);
    print(`    arguments: ${JSON.stringify(a.args)}`);
  }
  return 0;
}

async function decide(dataDir: string, id: string, decision: 'allow_once' | 'allow_always' | 'deny'): Promise<number> {
  const running = readRunningGateway(dataDir);
  await gatewayRequest(dataDir, running, 'POST', `/api/gateway/desktop/approvals/${encodeURIComponent(id)}`, { decision });
  return print(`${decision === 'deny' ? 'Denied' : 'Allowed'} ${id}${decision === 'allow_always' ? ' (always)' : ''}.`);
}

async function setApiKey(services: Services): Promise<number> {
  if (process.stdin.isTTY) process.stderr.write('Paste the desktop API key, then press Enter and Ctrl-D:\n');
  const { readStdin } = await import('./cli/stdin.js');
  const key = (await readStdin()).trim();
  if (key.length < 8) throw new UsageError('No API key on stdin (it is never taken from the command line).');
  await services.secrets.set('desktop-api-key', key);
  return print(`Saved the desktop API key in the ${services.secrets.kind === 'keychain' ? 'OS keychain' : 'file secret store'}.`);
}

function onOff(value: string | undefined, flag: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'on' && value !== 'off') throw new UsageError(`${flag} takes on or off.`);
  return value === 'on';
}

/** `--agent-env KEY=VALUE` sets a value, `--agent-env KEY` passes KEY from the gateway's environment. */
function agentEnvPatch(flags: Flags) {
  const set: Record<string, string> = {};
  const pass: string[] = [];
  for (const item of flags['agent-env'] ?? []) {
    const at = item.indexOf('=');
    if (at === -1) pass.push(item);
    else set[item.slice(0, at)] = item.slice(at + 1);
  }
  const unset = flags.unset ?? [];
  return Object.keys(set).length || pass.length || unset.length ? { set, pass, unset } : undefined;
}

/** `--max-agents 2` and the run-viewer caps; a value that is not a number is a usage error, one out of range the settings' 400. */
function limitsPatch(flags: Flags) {
  const number = (flag: 'max-agents' | 'run-viewer-max-gib' | 'run-viewer-max-days') => {
    const value = flags[flag];
    if (value === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`--${flag} takes a number.`);
    return Number(value);
  };
  const patch = { concurrentAgents: number('max-agents'), runViewerMaxGiB: number('run-viewer-max-gib'), runViewerMaxAgeDays: number('run-viewer-max-days') };
  return Object.values(patch).some((value) => value !== undefined) ? patch : undefined;
}

function binaryPatch(flags: Flags): BinaryPathsUpdate {
  const update: BinaryPathsUpdate = {};
  for (const item of flags.binary ?? []) {
    const at = item.indexOf('=');
    const name = at === -1 ? item : item.slice(0, at);
    if (at === -1 || !isManagedBinary(name)) throw new UsageError(`--binary takes NAME=/absolute/path (or NAME= to clear), NAME one of ${MANAGED_BINARIES.join(', ')}.`);
    update[name] = item.slice(at + 1) || null;
  }
  return update;
}

async function config(services: Services, flags: Flags): Promise<number> {
  const binaries = binaryPatch(flags);
  const confinement = onOff(flags['agent-confinement'], '--agent-confinement');
  const view = await services.gatewaySettings.update({
    agentEnv: agentEnvPatch(flags),
    binaryPaths: binaries,
    limits: limitsPatch(flags),
    agentConfinement: confinement === undefined ? undefined : { enabled: confinement },
    apiOrigin: flags['api-origin'],
    relayOrigin: flags['relay-origin'] === 'default' ? null : flags['relay-origin'],
    requireSignedCommands: onOff(flags['require-signed-commands'], '--require-signed-commands'),
    addAllowedOrigins: flags['allowed-origin'],
    removeAllowedOrigins: flags['remove-allowed-origin'],
    workspaceRoot: flags['workspace-root'],
    logLevel: flags['log-level'] === 'default' ? null : (flags['log-level'] as LogLevel | undefined),
  });
  if (flags.json) return print(JSON.stringify(view));
  print(`api origin:      ${view.apiOrigin ?? '(not set)'}`);
  print(`relay origin:    ${view.relayOrigin ?? '(not set)'}${view.relayOriginSetting ? '' : ' (the API origin)'}`);
  print(`allowed origins: ${view.allowedOrigins.join(', ') || '(none)'}`);
  print(`workspace root:  ${view.workspaceRoot ?? '(not set)'}`);
  print(`log level:       ${view.logLevel ?? 'info (default)'}`);
  print(`api key:         ${view.apiKeySet ? 'set' : '(not set)'}`);
  print(`secret store:    ${view.secretStore}`);
  print(`limits:          ${view.limits.concurrentAgents} agents at once per paired origin; run viewer keeps ${view.limits.runViewerMaxGiB} GiB, ${view.limits.runViewerMaxAgeDays} days`);
  const { agentConfinement: sandbox } = view;
  print(`agent sandbox:   ${sandbox.enabled ? `on (${sandbox.osSandbox})` : 'OFF: agents see your whole home folder'}${sandbox.missing.length ? `; missing ${sandbox.missing.join(', ')}` : ''}`);
  for (const limitation of sandbox.limitations) print(`                 ${limitation}`);
  print(`agent env:       ${view.agentEnv.entries.map((entry) => `${entry.name}=${entry.secret ? '(secret, set)' : entry.value}${entry.source === 'inherited' ? ' (from the environment)' : ''}`).join(', ') || '(nothing beyond the basics)'}`);
  if (view.agentEnv.pass.length) print(`agent env adds:  ${view.agentEnv.pass.join(', ')} (passed from the environment when set)`);
  if (Object.keys(binaries).length) {
    const { binaryPathsView } = await import('./supervisor/binary-settings.js');
    const { binaryPaths } = await binaryPathsView(services.supervisor.binaries);
    print(`binary paths:    ${Object.entries(binaryPaths).map(([name, path]) => `${name}=${path ?? '(PATH)'}`).join(', ')}`);
  }
  return 0;
}

/** The relay lives in the serving gateway; with none running, pause and resume still set what it starts with. */
async function relay(dataDir: string, flags: Flags, action: string): Promise<number> {
  if (!['status', 'pause', 'resume'].includes(action)) throw new UsageError(`relay takes status, pause or resume, not "${action}".`);
  const running = findRunningGateway(dataDir);
  if (!running) {
    return withServices(dataDir, flags, async (services) => {
      if (action !== 'status') services.relaySettings.setPaused(action === 'pause');
      const identity = await services.deviceIdentity.describe();
      const offline = { state: 'stopped', paused: services.relaySettings.paused(), relayOrigin: services.relaySettings.relayOrigin() ?? null, reason: 'no gateway is running for this data dir', identity };
      if (flags.json) return print(JSON.stringify(offline));
      print(`relay: not running (no gateway serves ${dataDir}); cloud commands ${offline.paused ? 'paused' : 'allowed'} when it starts.`);
      return printIdentity(identity);
    });
  }
  const path = '/api/gateway/desktop/relay';
  const status = (action === 'status'
    ? await gatewayRequest(dataDir, running, 'GET', path)
    : await gatewayRequest(dataDir, running, 'PATCH', path, { paused: action === 'pause' })) as RelayStatusView;
  if (flags.json) return print(JSON.stringify(status));
  print(`relay:    ${status.state}${status.presence ? ` (${status.presence})` : ''}${status.paused ? ', cloud commands paused' : ''}`);
  print(`origin:   ${status.relayOrigin ?? '(not set)'}`);
  if (status.reason) print(`why:      ${status.reason}`);
  if (status.identity) printIdentity(status.identity);
  if (status.lastError) print(`last error: ${status.lastError.message} at ${status.lastError.at}`);
  const { inFlight, queued, recent } = status.commands;
  print(`commands: ${inFlight.length} running, ${queued.length} queued`);
  for (const c of [...inFlight, ...recent.slice(0, 10)]) {
    print(`  ${c.state.padEnd(8)} ${c.operationId} ${c.method} ${c.path}  ${c.outcome ?? ''}${c.statusCode ? ` ${c.statusCode}` : ''}${c.durationMs !== null ? ` ${c.durationMs} ms` : ''}`);
  }
  return 0;
}

type RelayStatusView = z.infer<typeof RelayStatusResponse>;

/** What the user registers with the cloud so it can check the gateway's PoP. */
function printIdentity(identity: { gatewayId: string; publicKey: string }): number {
  print(`gateway id: ${identity.gatewayId}`);
  print(`public key: ${identity.publicKey} (Ed25519, raw, base64url)`);
  return 0;
}

async function relayKeys(services: Services, flags: Flags, [action, value]: string[]): Promise<number> {
  if (action === 'trust-key') {
    let key;
    try {
      key = services.trustedKeys.add(required(value, 'KEY'), flags.label ?? null);
    } catch (error) {
      throw new UsageError(`Not a usable public key: ${(error as Error).message}.`);
    }
    return print(flags.json ? JSON.stringify(key) : `Trusted ${key.fingerprint}${key.label ? ` (${key.label})` : ''}.`);
  }
  if (action === 'untrust-key') {
    if (!services.trustedKeys.remove(required(value, 'FINGERPRINT'))) throw new UsageError(`No trusted key ${value}.`);
    return print(`Removed ${value}.`);
  }
  const keys = services.trustedKeys.list();
  if (flags.json) return print(JSON.stringify({ keys, required: services.relaySettings.requireSignatures() }));
  print(`signed commands ${services.relaySettings.requireSignatures() ? 'required' : 'optional'} for loop and write operations`);
  if (keys.length === 0) return print('No trusted keys.');
  for (const key of keys) print(`${key.fingerprint}  ${key.label ?? ''}  added ${key.addedAt}`);
  return 0;
}

async function runs(dataDir: string, flags: Flags, action: string): Promise<number> {
  if (action === 'prune') return pruneWorktrees(dataDir, flags);
  if (action === 'retention') return withServices(dataDir, flags, async (services) => (await services.load('runs'), runRetention(services, flags)));
  if (action !== 'list') throw new UsageError(`runs takes prune or retention, not "${action}".`);
  const [{ formatBytes }, { statusView }, { latestPerWorktree }] = await Promise.all([
    import('../shared/units.js'), import('./symphony/run-views.js'), import('./symphony/worktree-retention.js'),
  ]);
  return withServices(dataDir, flags, async (services) => {
    await services.load('runs');
    // Sizes measured now (one walk per worktree), so the list says what is on disk.
    for (const run of latestPerWorktree(services.runs.list())) if (!services.runs.retention.record(run.id)?.removedAt) await services.runs.retention.check(run);
    const views = await Promise.all(services.runs.list().map((run) => statusView(services.runs, run)));
    if (flags.json) return print(JSON.stringify({ runs: views }));
    if (views.length === 0) return print('No ticket runs.');
    for (const v of views) {
      const disk = v.retention?.decision === 'removed' ? 'removed' : v.disk ? formatBytes(v.disk.bytes) : '-';
      print(`${v.ticketId.padEnd(14)} ${v.status.padEnd(13)} ${`${v.iteration}/${v.maxIterations}`.padEnd(6)} ${String(v.tokens.total).padStart(8)} tok  $${v.costUsd.toFixed(2).padStart(6)}  ${disk.padStart(8)}  ${v.phase}`);
      print(`    ${v.worktreeDir} (${v.branch})${v.retention ? `: ${v.retention.why}${v.retention.removeAfter && v.retention.decision === 'scheduled' ? ` Removal after ${v.retention.removeAfter}.` : ''}` : ''}`);
    }
    return 0;
  });
}

/** Through the running gateway when there is one (it holds the repositories' locks), else on the data dir. */
async function pruneWorktrees(dataDir: string, flags: Flags): Promise<number> {
  const dryRun = Boolean(flags['dry-run']);
  const running = findRunningGateway(dataDir);
  const reply = running
    ? ((await gatewayRequest(dataDir, running, 'POST', '/api/gateway/symphony/worktrees/prune', { dryRun })) as { retentionDays: number; worktrees: PruneOutcome[] })
    : await withServicesValue(dataDir, flags, async (services) => (await services.load('runs'), { retentionDays: services.runs.retention.days(), worktrees: await services.runs.retention.prune({ dryRun }) }));
  if (flags.json) return print(JSON.stringify({ dryRun, ...reply }));
  const { formatBytes } = await import('../shared/units.js');
  const verb = { removed: 'removed', would_remove: 'would remove', kept: 'kept', failed: 'FAILED' } as const;
  if (reply.worktrees.length === 0) return print('No worktrees of runs left.');
  for (const w of reply.worktrees) {
    print(`${verb[w.action].padEnd(12)} ${w.worktreePath}  ${w.diskBytes === null ? '' : formatBytes(w.diskBytes)}  ${w.error ?? w.retention.why}`);
  }
  const freed = reply.worktrees.filter((w) => w.action === 'removed' || w.action === 'would_remove').reduce((sum, w) => sum + (w.diskBytes ?? 0), 0);
  print(`${dryRun ? 'Would free' : 'Freed'} ${formatBytes(freed)} (kept ${reply.retentionDays} day(s) after a merge or discard).`);
  return reply.worktrees.some((w) => w.action === 'failed') ? 1 : 0;
}

async function runRetention(services: Services, flags: Flags): Promise<number> {
  const { RETENTION_SETTINGS } = await import('./symphony/worktree-retention.js');
  if (flags.days !== undefined) {
    const days = Number(flags.days);
    if (!Number.isInteger(days) || days < 0 || days > 3650) throw new UsageError('--days takes a whole number of days, 0-3650.');
    services.settings.set(RETENTION_SETTINGS.days, days);
  }
  const auto = onOff(flags.auto, '--auto');
  if (auto !== undefined) services.settings.set(RETENTION_SETTINGS.auto, auto);
  const view = { days: services.runs.retention.days(), auto: services.runs.retention.auto() };
  if (flags.json) return print(JSON.stringify(view));
  return print(`Worktrees of merged or discarded runs are kept ${view.days} day(s), then ${view.auto ? 'removed by the gateway' : 'removed by `runs prune`'} (never with uncommitted changes).`);
}

async function withServicesValue<T>(dataDir: string, flags: Flags, action: (services: Services) => Promise<T>): Promise<T> {
  let value: T | undefined;
  await withServices(dataDir, flags, async (services) => {
    value = await action(services);
    return 0;
  });
  return value as T;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n\n${USAGE}`);
    else if (error instanceof AppError) process.stderr.write(`symphony-gateway: ${error.message}\n`);
    else process.stderr.write(`symphony-gateway: ${(error as Error).message}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
