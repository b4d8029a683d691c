// An in-memory index of one repository's file paths, laid out for fuzzy search:
// all paths in one Uint16Array (original and lowercase), each position's fzf bonus
// precomputed, and a per-path character mask that rejects most paths in one AND.
import { charMask, findWindow, fuzzyScore, SCORE_MATCH, scoreCeiling, scoreWindow, Scratch, toLowerCode, writeBonuses } from './fuzzy.js';

export interface FileHit {
  /** Relative to the repository, with '/' separators (as git prints it). */
  path: string;
  score: number;
  /** Indexes into `path` of the matched characters, ascending (for highlighting). */
  positions: number[];
}

export interface FileQueryResult {
  hits: FileHit[];
  /** How many paths matched in all (hits holds the best `limit` of them). */
  total: number;
}

// Ranking beyond fzf's score: a file found by its own name beats one found across
// its folders, and a name that is exactly the query beats one that merely contains it.
const BONUS_IN_BASENAME = SCORE_MATCH;
const BONUS_EXACT_NAME = 2 * SCORE_MATCH;
const DOT = 46;
const CHARS_PER_SLICE = 1 << 19;
const PATHS_PER_SLICE = 10_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Term {
  codes: Uint16Array;
  caseSensitive: boolean;
  mask: number;
  hasDot: boolean;
}

export class FileIndex {
  /** Every path, NUL-separated, as git printed them: one flat string, sliced for results. */
  private readonly listing: string;
  private readonly codes: Uint16Array;
  private readonly lower: Uint16Array;
  private readonly bonus: Uint8Array;
  /** Path i is codes[starts[i], starts[i + 1] - 1); the -1 skips its NUL. */
  private readonly starts: Uint32Array;
  private readonly nameStarts: Uint32Array;
  private readonly masks: Uint32Array;
  /** The highest position bonus in each path: bounds what any pattern can score there. */
  private readonly maxBonus: Uint8Array;
  private readonly scratch = new Scratch();
  readonly size: number;
  // What the last query matched: a query that extends it (typing on) can only match a
  // subset (each term's prefix is a subsequence of it), so it scans just those.
  private lastQuery: string | null = null;
  private lastMatches: Int32Array = new Int32Array(0);
  private readonly matchBuffers = new AlternatingBuffers(() => new Int32Array(this.size));
  private deferredBuffer: Int32Array | null = null;

  /**
   * Builds the index of `listing` (paths separated or terminated by NUL, as `git ls-files
   * -z` prints them) in slices, awaiting `pause` between them: 100k paths take a few
   * hundred ms of CPU, which must not stall the gateway's other requests in one block.
   */
  static async build(listing: string, pause: () => Promise<void> = nextTurn): Promise<FileIndex> {
    const index = new FileIndex(listing);
    const length = index.listing.length;
    for (let from = 0; from < length; from += CHARS_PER_SLICE) {
      index.copyChars(from, Math.min(length, from + CHARS_PER_SLICE));
      await pause();
    }
    let start = 0;
    for (let from = 0; from < index.size; from += PATHS_PER_SLICE) {
      start = index.describePaths(from, Math.min(index.size, from + PATHS_PER_SLICE), start);
      await pause();
    }
    index.starts[index.size] = start;
    return index;
  }

  private constructor(listing: string) {
    this.listing = listing.endsWith('\0') || listing === '' ? listing : `${listing}\0`;
    const n = this.listing.length;
    let count = 0;
    for (let k = this.listing.indexOf('\0'); k !== -1; k = this.listing.indexOf('\0', k + 1)) count++;
    this.size = count;
    this.codes = new Uint16Array(n);
    this.lower = new Uint16Array(n);
    this.bonus = new Uint8Array(n);
    this.starts = new Uint32Array(count + 1);
    this.nameStarts = new Uint32Array(count);
    this.masks = new Uint32Array(count);
    this.maxBonus = new Uint8Array(count);
  }

  private copyChars(from: number, to: number): void {
    for (let k = from; k < to; k++) {
      const code = this.listing.charCodeAt(k);
      this.codes[k] = code;
      this.lower[k] = toLowerCode(code);
    }
  }

  /** Fills the per-path tables of paths [from, to), path `from` starting at `start`; returns where path `to` starts. */
  private describePaths(from: number, to: number, start: number): number {
    for (let i = from; i < to; i++) {
      const end = this.codes.indexOf(0, start);
      this.starts[i] = start;
      const slash = this.listing.lastIndexOf('/', end - 1);
      this.nameStarts[i] = slash >= start ? slash + 1 : start;
      this.maxBonus[i] = writeBonuses(this.codes, start, end, this.bonus);
      this.masks[i] = charMask(this.lower, start, end);
      start = end + 1;
    }
    return start;
  }

  private get deferred(): Int32Array {
    return (this.deferredBuffer ??= new Int32Array(this.size));
  }

  path(i: number): string {
    return this.listing.slice(this.starts[i], this.starts[i + 1] - 1);
  }

  /**
   * The best `limit` paths for `query`: space-separated terms that must all match
   * (as in fzf); a term with an uppercase letter matches case-sensitively (smart case).
   * Ties go to the shorter path, then to git's order.
   */
  query(query: string, limit: number): FileQueryResult {
    const terms = parseTerms(query);
    if (terms.length === 0) {
      const hits: FileHit[] = [];
      for (let i = 0; i < Math.min(limit, this.size); i++) hits.push({ path: this.path(i), score: 0, positions: [] });
      return { hits, total: this.size };
    }
    let queryMask = 0;
    let patternChars = 0;
    for (const term of terms) {
      queryMask |= term.mask;
      patternChars += term.codes.length;
    }
    const top = new TopK(limit);
    const matches = this.matchBuffers.next();
    const previous = this.lastQuery !== null && query.startsWith(this.lastQuery) ? this.lastMatches : null;
    const candidates = previous ? previous.length : this.size;
    const consider = (i: number, names: number, windowFound: boolean) => {
      const length = this.starts[i + 1] - this.starts[i];
      // Most matches cannot enter the top k even with a perfect alignment: skip their DP.
      if (!top.admits(scoreCeiling(patternChars, terms.length, this.maxBonus[i]) + names, length, i)) return;
      top.offer(i, this.alignmentScore(i, terms, top.minScoreToEnter(length, i) - names, windowFound) + names, length);
    };
    // Paths whose file name holds the query go first: they fill the top k with high
    // scores, so that the rest mostly fail the ceiling test above without any DP.
    const deferred = this.deferred;
    let total = 0;
    let deferredCount = 0;
    for (let n = 0; n < candidates; n++) {
      const i = previous ? previous[n] : n;
      if ((this.masks[i] & queryMask) !== queryMask || !this.matchesAll(i, terms)) continue;
      matches[total++] = i;
      let names = 0;
      for (const term of terms) names += this.nameBonus(i, term);
      if (names > 0) consider(i, names, true);
      else deferred[deferredCount++] = i;
    }
    for (let n = 0; n < deferredCount; n++) consider(deferred[n], 0, false);
    this.lastQuery = query;
    this.lastMatches = matches.subarray(0, total);
    return { hits: top.sorted().map(({ index, score }) => this.hit(index, score, terms)), total };
  }

  private matchesAll(i: number, terms: readonly Term[]): boolean {
    for (const term of terms) {
      if (!findWindow(term.caseSensitive ? this.codes : this.lower, this.starts[i], this.starts[i + 1] - 1, term.codes, this.scratch)) {
        return false;
      }
    }
    return true;
  }

  /** `windowFound`: findWindow just ran for this path's only term, and scratch still holds it. */
  private alignmentScore(i: number, terms: readonly Term[], minScore: number, windowFound: boolean): number {
    if (terms.length === 1 && windowFound) {
      const term = terms[0];
      return scoreWindow(term.caseSensitive ? this.codes : this.lower, this.bonus, term.codes, this.scratch, minScore, this.maxBonus[i]);
    }
    let total = 0;
    for (const term of terms) {
      total += fuzzyScore(term.caseSensitive ? this.codes : this.lower, this.bonus, this.starts[i], this.starts[i + 1] - 1, term.codes, this.scratch);
    }
    return total;
  }

  private nameBonus(i: number, term: Term): number {
    const text = term.caseSensitive ? this.codes : this.lower;
    const nameStart = this.nameStarts[i];
    const end = this.starts[i + 1] - 1;
    let k = 0;
    for (let j = nameStart; j < end && k < term.codes.length; j++) {
      if (text[j] === term.codes[k]) k++;
    }
    if (k < term.codes.length) return 0;
    // Exact name or exact stem (the name up to its first dot), compared in place.
    const length = term.codes.length;
    if (nameStart + length > end) return BONUS_IN_BASENAME;
    for (let q = 0; q < length; q++) {
      if (text[nameStart + q] !== term.codes[q]) return BONUS_IN_BASENAME;
    }
    const after = nameStart + length;
    const exact = after === end || (text[after] === DOT && !term.hasDot);
    return exact ? BONUS_IN_BASENAME + BONUS_EXACT_NAME : BONUS_IN_BASENAME;
  }

  private hit(i: number, score: number, terms: readonly Term[]): FileHit {
    const start = this.starts[i];
    const matched = new Set<number>();
    for (const term of terms) {
      const positions: number[] = [];
      fuzzyScore(term.caseSensitive ? this.codes : this.lower, this.bonus, start, this.starts[i + 1] - 1, term.codes, this.scratch, positions);
      for (const p of positions) matched.add(p - start);
    }
    return { path: this.path(i), score, positions: [...matched].sort((a, b) => a - b) };
  }
}

function parseTerms(query: string): Term[] {
  return query
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((raw) => {
      const caseSensitive = raw !== raw.toLowerCase();
      const codes = Uint16Array.from(raw, (c) => c.charCodeAt(0));
      const lowered = codes.map(toLowerCode);
      return {
        codes: caseSensitive ? codes : lowered,
        caseSensitive,
        mask: charMask(lowered, 0, lowered.length),
        hasDot: raw.includes('.'),
      };
    });
}

/** A bounded heap that keeps the best k (score high, then length short, then index low). */
class TopK {
  private readonly index: Int32Array;
  private readonly score: Float64Array;
  private readonly length: Int32Array;
  private count = 0;

  constructor(private readonly k: number) {
    this.index = new Int32Array(k);
    this.score = new Float64Array(k);
    this.length = new Int32Array(k);
  }

  offer(index: number, score: number, length: number): void {
    if (this.k === 0) return;
    if (this.count < this.k) {
      this.set(this.count, index, score, length);
      this.siftUp(this.count++);
    } else if (this.worse(0, score, length, index)) {
      this.set(0, index, score, length);
      this.siftDown(0);
    }
  }

  /** Could an entry with this score, length and index get in? */
  admits(score: number, length: number, index: number): boolean {
    if (this.count < this.k) return this.k > 0;
    return this.worse(0, score, length, index);
  }

  /** The lowest score with which this entry gets in (scores are integers). */
  minScoreToEnter(length: number, index: number): number {
    if (this.count < this.k) return Number.NEGATIVE_INFINITY;
    const winsTie = this.length[0] > length || (this.length[0] === length && this.index[0] > index);
    return winsTie ? this.score[0] : this.score[0] + 1;
  }

  sorted(): { index: number; score: number; length: number }[] {
    const entries = [];
    for (let n = 0; n < this.count; n++) entries.push({ index: this.index[n], score: this.score[n], length: this.length[n] });
    return entries.sort((a, b) => b.score - a.score || a.length - b.length || a.index - b.index);
  }

  private set(slot: number, index: number, score: number, length: number): void {
    this.index[slot] = index;
    this.score[slot] = score;
    this.length[slot] = length;
  }

  /** Is the entry in `slot` ranked below (score, length, index)? The heap keeps the worst at the root. */
  private worse(slot: number, score: number, length: number, index: number): boolean {
    if (this.score[slot] !== score) return this.score[slot] < score;
    if (this.length[slot] !== length) return this.length[slot] > length;
    return this.index[slot] > index;
  }

  private siftUp(slot: number): void {
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      if (!this.worse(slot, this.score[parent], this.length[parent], this.index[parent])) return;
      this.swap(slot, parent);
      slot = parent;
    }
  }

  private siftDown(slot: number): void {
    for (;;) {
      const left = 2 * slot + 1;
      const right = left + 1;
      let worst = slot;
      if (left < this.count && this.worse(left, this.score[worst], this.length[worst], this.index[worst])) worst = left;
      if (right < this.count && this.worse(right, this.score[worst], this.length[worst], this.index[worst])) worst = right;
      if (worst === slot) return;
      this.swap(slot, worst);
      slot = worst;
    }
  }

  private swap(a: number, b: number): void {
    const { index, score, length } = this;
    [index[a], index[b]] = [index[b], index[a]];
    [score[a], score[b]] = [score[b], score[a]];
    [length[a], length[b]] = [length[b], length[a]];
  }
}

/** Two buffers used in turn: one holds the last query's matches while the next fills the other. */
class AlternatingBuffers {
  private buffers: Int32Array[] = [];
  private turn = 0;

  constructor(private readonly allocate: () => Int32Array) {}

  next(): Int32Array {
    this.turn = 1 - this.turn;
    this.buffers[this.turn] ??= this.allocate();
    return this.buffers[this.turn];
  }
}
