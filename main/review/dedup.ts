// Which findings of two reviewers say the same thing (the original's rule, kept exactly):
// normalise each message (lower case, anything not a letter or digit becomes a space),
// score = Jaccard of the word sets, +0.25 when the file is the same, +0.25 when the
// first 80 characters are equal, capped at 1; greedily each A takes its best unused B,
// and pairs scoring at least 0.6 are duplicates.

export interface Comparable {
  /** The finding's text (title and body), or a PR comment's body. */
  text: string;
  file?: string | null;
}

export const DUPLICATE_THRESHOLD = 0.6;
const OPENING_CHARS = 80;

export function normalise(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

function words(normalised: string): Set<string> {
  return new Set(normalised.split(' ').filter(Boolean));
}

export function similarity(a: Comparable, b: Comparable): number {
  const na = normalise(a.text);
  const nb = normalise(b.text);
  const wa = words(na);
  const wb = words(nb);
  let shared = 0;
  for (const word of wa) if (wb.has(word)) shared++;
  const union = wa.size + wb.size - shared;
  let score = union === 0 ? 0 : shared / union;
  if (a.file && b.file && sameFile(a.file, b.file)) score += 0.25;
  if (na.length > 0 && na.slice(0, OPENING_CHARS) === nb.slice(0, OPENING_CHARS)) score += 0.25;
  return Math.min(1, score);
}

/** `[iA, iB]` pairs: each A in order takes its best-scoring B not taken yet. */
export function findDuplicates(a: readonly Comparable[], b: readonly Comparable[], threshold = DUPLICATE_THRESHOLD): Array<[number, number]> {
  const taken = new Set<number>();
  const pairs: Array<[number, number]> = [];
  a.forEach((left, ia) => {
    let best = -1;
    let bestScore = -1;
    b.forEach((right, ib) => {
      if (taken.has(ib)) return;
      const score = similarity(left, right);
      if (score > bestScore) {
        best = ib;
        bestScore = score;
      }
    });
    if (best >= 0 && bestScore >= threshold) {
      taken.add(best);
      pairs.push([ia, best]);
    }
  });
  return pairs;
}

/** Same file whether a reviewer gave it absolute (codex) or relative to the repository (claude, GitHub). */
function sameFile(a: string, b: string): boolean {
  const x = a.replace(/\\/g, '/').replace(/^\.\//, '');
  const y = b.replace(/\\/g, '/').replace(/^\.\//, '');
  return x === y || x.endsWith(`/${y}`) || y.endsWith(`/${x}`);
}

/** What a finding, a client's finding object or a PR review comment compares by. */
export function comparable(item: { message?: string; title?: string; body?: string; file?: string | null; path?: string | null }): Comparable {
  const text = item.message ?? [item.title, item.body].filter(Boolean).join('\n');
  return { text, file: item.file ?? item.path ?? null };
}
