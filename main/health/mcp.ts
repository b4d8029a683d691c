// Whether each agent CLI has an MCP server configured whose URL is the one the web app
// expects, read from the CLI's own configuration (never by running it):
// claude: `$CLAUDE_CONFIG_DIR/.claude.json` or `~/.claude.json` (`mcpServers`, also per project);
// codex: `$CODEX_HOME/config.toml` or `~/.codex/config.toml` (`[mcp_servers.<name>]` with `url`).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import type { McpServerStatus } from '../../shared/schemas/gateway.js';

export type McpStatus = z.infer<typeof McpServerStatus>;

export interface McpHomes {
  home: string;
  claudeConfigDir?: string;
  codexHome?: string;
}

interface Server {
  name: string;
  url: string;
}

export async function readMcpServers(homes: McpHomes, expectedUrl?: string): Promise<{ claude: McpStatus; codex: McpStatus }> {
  const claudeFile = path.join(homes.claudeConfigDir ?? homes.home, '.claude.json');
  const codexFile = path.join(homes.codexHome ?? path.join(homes.home, '.codex'), 'config.toml');
  const [claude, codex] = await Promise.all([
    status(claudeFile, claudeServers, expectedUrl),
    status(codexFile, codexServers, expectedUrl),
  ]);
  return { claude, codex };
}

async function status(file: string, parse: (text: string) => Server[], expectedUrl?: string): Promise<McpStatus> {
  const checkedAt = new Date().toISOString();
  let servers: Server[];
  try {
    servers = parse(await readFile(file, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return { available: false, serverName: null, matchedUrl: null, checkedAt, error: missing ? `No ${path.basename(file)} found.` : `${file} could not be read.` };
  }
  // Without an expected URL any server with a URL counts (the web app then has no URL to compare).
  const match = servers.find((server) => expectedUrl === undefined || sameUrl(server.url, expectedUrl));
  if (match) return { available: true, serverName: match.name, matchedUrl: match.url, checkedAt };
  return {
    available: false,
    serverName: null,
    matchedUrl: null,
    checkedAt,
    error: expectedUrl ? `No MCP server with the URL ${expectedUrl} is configured.` : 'No MCP server with a URL is configured.',
  };
}

function claudeServers(text: string): Server[] {
  const config = JSON.parse(text) as { mcpServers?: unknown; projects?: Record<string, { mcpServers?: unknown }> };
  const tables = [config.mcpServers, ...Object.values(config.projects ?? {}).map((project) => project?.mcpServers)];
  return tables.flatMap((table) => serversOf(table));
}

function serversOf(table: unknown): Server[] {
  if (!table || typeof table !== 'object') return [];
  return Object.entries(table as Record<string, { url?: unknown }>)
    .filter(([, server]) => typeof server?.url === 'string')
    .map(([name, server]) => ({ name, url: server.url as string }));
}

/** Just enough TOML: `[mcp_servers.<name>]` tables and their `url = "..."` line. */
function codexServers(text: string): Server[] {
  const servers: Server[] = [];
  let current: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const table = /^\[\s*mcp_servers\.("?)([^"\]]+)\1\s*\]$/.exec(line);
    if (table) {
      current = table[2];
      continue;
    }
    if (line.startsWith('[')) current = null;
    const url = /^url\s*=\s*["']([^"']+)["']/.exec(line);
    if (current && url) servers.push({ name: current, url: url[1] });
  }
  return servers;
}

function sameUrl(a: string, b: string): boolean {
  const normal = (value: string) => {
    try {
      const url = new URL(value);
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}${url.search}`;
    } catch {
      return value.trim().replace(/\/+$/, '');
    }
  };
  return normal(a) === normal(b);
}
