// The pattern store as the original's TOON text (`org-patterns.toon`): one tabular array
// `patterns[N]{fields}:`, rows indented two spaces, comma-separated; `summary` always
// quoted, other values quoted only where TOON needs it (empty, delimiter or structure
// characters, edge spaces, or a string that would read as a number, boolean or null);
// list fields (flags, applies_to, context) joined with `|`. Hand-written (a dozen lines):
// the generic TOON encoder (@toon-format/toon) would write the list fields as nested
// arrays, not this flat form.
import type { Pattern } from '../../shared/schemas/learnings.js';

const FIELDS = ['id', 'category', 'summary', 'confidence', 'seen_count', 'success_rate', 'flags', 'applies_to', 'context', 'repo'] as const;

export function toToon(patterns: readonly Pattern[], now = new Date()): string {
  const lines = [
    `# Symphony learnings: ${patterns.length} pattern(s), exported ${now.toISOString()}`,
    `patterns[${patterns.length}]{${FIELDS.join(',')}}:`,
  ];
  for (const p of patterns) {
    const row = [
      cell(p.id),
      cell(p.category),
      quoted(p.summary),
      String(p.confidence),
      String(p.seen_count),
      String(p.success_rate),
      cell(p.flags.join('|')),
      cell(p.applies_to.map(listItem).join('|')),
      cell(p.context.map(listItem).join('|')),
      cell(p.repo),
    ];
    lines.push(`  ${row.join(',')}`);
  }
  return `${lines.join('\n')}\n`;
}

function quoted(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

function cell(text: string): string {
  const needsQuotes =
    text === '' ||
    text.trim() !== text ||
    // eslint-disable-next-line no-control-regex
    /[,:"\\[\]{}\u0000-\u001f]/.test(text) ||
    /^[-#]/.test(text) ||
    /^(true|false|null)$/.test(text) ||
    /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text);
  return needsQuotes ? quoted(text) : text;
}

/** A `|` inside one list item would split it in two. */
function listItem(text: string): string {
  return text.replace(/\|/g, '/');
}
