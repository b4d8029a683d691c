// Display helpers shared by the screens.
import type { Timestamp } from '../../shared/client.js';

function toDate(value: Timestamp | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "just now", "5 min ago", "in 2 h", "3 d ago". */
export function relativeTime(value: Timestamp | null | undefined, now = Date.now()): string {
  const date = toDate(value);
  if (!date) return 'never';
  const deltaSeconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(deltaSeconds);
  if (abs < 10) return 'just now';
  const [amount, unit] =
    abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86400), 'd'];
  return deltaSeconds < 0 ? `${amount} ${unit} ago` : `in ${amount} ${unit}`;
}

export function absoluteTime(value: Timestamp | null | undefined): string {
  const date = toDate(value);
  return date ? date.toLocaleString() : '';
}

export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

/** Arguments as the user should read them: stable, indented JSON. */
export function prettyJson(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

export { formatBytes } from '../../shared/units.js';

/** Time from `start` to `end` (or now while it runs): "42 s", "3 min 5 s", "2 h 10 min". */
export function elapsed(start: Timestamp | null | undefined, end?: Timestamp | null, now = Date.now()): string {
  const from = toDate(start);
  if (!from) return '–';
  const to = toDate(end ?? null)?.getTime() ?? now;
  return formatUptime((to - from.getTime()) / 1000);
}

export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return '–';
  return usd === 0 ? '$0' : usd < 0.01 ? '<$0.01' : `$${usd.toFixed(2)}`;
}

export function formatCount(value: number): string {
  return value >= 10_000 ? `${Math.round(value / 1000)}k` : value >= 1000 ? `${(value / 1000).toFixed(1)}k` : String(value);
}

export interface ArgRow {
  /** Dotted path of the value inside the request: `binaryPaths.git`, `files.0`. */
  key: string;
  value: string;
}

const MAX_ARG_ROWS = 40;
const MAX_ARG_CHARS = 400;

/**
 * A request's parameters, query and body as one row per value, so a person reads what is
 * asked (`binaryPaths.git  /usr/bin/git`) instead of nested JSON. Long texts are cut with
 * their full length noted; the raw JSON stays one click away.
 */
export function argRows(args: unknown): ArgRow[] {
  const rows: ArgRow[] = [];
  const visit = (value: unknown, key: string) => {
    if (rows.length >= MAX_ARG_ROWS) return;
    if (value === null || value === undefined) return;
    if (typeof value === 'object') {
      for (const [name, inner] of Object.entries(value as Record<string, unknown>)) visit(inner, key ? `${key}.${name}` : name);
      return;
    }
    const text = String(value);
    rows.push({ key, value: text.length > MAX_ARG_CHARS ? `${text.slice(0, MAX_ARG_CHARS)}… (${text.length} characters)` : text });
  };
  // The pipeline's envelope ({params, query, body}) is ours, not the caller's: its names go.
  const envelope = args && typeof args === 'object' ? (args as Record<string, unknown>) : { value: args };
  for (const part of Object.values(envelope)) visit(part, '');
  return rows;
}
