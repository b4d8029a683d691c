// fzf's scoring (its "v2" algorithm: a Smith-Waterman style alignment over the
// window where the pattern can match), with fzf's constants and its "path" scheme:
// a match scores per character, more at word/path boundaries and camelCase humps,
// consecutive characters keep the bonus of their chunk's first one, gaps cost.
// Texts are slices of one big Uint16Array so that 100k paths cost no allocation.

export const SCORE_MATCH = 16;
const SCORE_GAP_START = -3;
const SCORE_GAP_EXTENSION = -1;
const BONUS_BOUNDARY = SCORE_MATCH / 2;
const BONUS_NON_WORD = SCORE_MATCH / 2;
const BONUS_CAMEL123 = BONUS_BOUNDARY + SCORE_GAP_EXTENSION;
const BONUS_CONSECUTIVE = -(SCORE_GAP_START + SCORE_GAP_EXTENSION);
const BONUS_FIRST_CHAR_MULTIPLIER = 2;
const BONUS_BOUNDARY_WHITE = BONUS_BOUNDARY + 2;
const BONUS_BOUNDARY_DELIMITER = BONUS_BOUNDARY + 1;

const enum CharClass {
  White,
  NonWord,
  Delimiter,
  Lower,
  Upper,
  Letter,
  Number,
}

const DELIMITERS = '/,:;|';
const WHITE = ' \t\n\v\f\r\u0085\u00a0';

function classOfSlow(code: number): CharClass {
  const char = String.fromCharCode(code);
  if (WHITE.includes(char)) return CharClass.White;
  if (DELIMITERS.includes(char)) return CharClass.Delimiter;
  if (char.toLowerCase() !== char.toUpperCase()) return char === char.toLowerCase() ? CharClass.Lower : CharClass.Upper;
  if (/\p{L}/u.test(char)) return CharClass.Letter;
  if (/\p{N}/u.test(char)) return CharClass.Number;
  return /\s/u.test(char) ? CharClass.White : CharClass.NonWord;
}

const ASCII_CLASSES = Uint8Array.from({ length: 128 }, (_, code) => {
  if (code >= 97 && code <= 122) return CharClass.Lower;
  if (code >= 65 && code <= 90) return CharClass.Upper;
  if (code >= 48 && code <= 57) return CharClass.Number;
  return WHITE.includes(String.fromCharCode(code)) || DELIMITERS.includes(String.fromCharCode(code)) ? classOfSlow(code) : CharClass.NonWord;
});

function classOf(code: number): CharClass {
  return code < 128 ? ASCII_CLASSES[code] : classOfSlow(code);
}

function bonusFor(prev: CharClass, current: CharClass): number {
  if (current > CharClass.NonWord) {
    if (prev === CharClass.White) return BONUS_BOUNDARY_WHITE;
    if (prev === CharClass.Delimiter) return BONUS_BOUNDARY_DELIMITER;
    if (prev === CharClass.NonWord) return BONUS_BOUNDARY;
  }
  if ((prev === CharClass.Lower && current === CharClass.Upper) || (prev !== CharClass.Number && current === CharClass.Number)) {
    return BONUS_CAMEL123;
  }
  if (current === CharClass.NonWord || current === CharClass.Delimiter) return BONUS_NON_WORD;
  if (current === CharClass.White) return BONUS_BOUNDARY_WHITE;
  return 0;
}

const lowerTable = new Uint16Array(65536);

/** UTF-16 code unit → its lowercase code unit (itself when lowercasing changes the length). */
export function toLowerCode(code: number): number {
  if (code < 128) return code >= 65 && code <= 90 ? code + 32 : code;
  if (lowerTable[code] === 0) {
    const lower = String.fromCharCode(code).toLocaleLowerCase('en-US');
    lowerTable[code] = lower.length === 1 ? lower.charCodeAt(0) : code;
  }
  return lowerTable[code];
}

/** Writes the bonus of each position of text[start, end) into `out` (a path starts as if after a '/'); returns the highest. */
export function writeBonuses(text: Uint16Array, start: number, end: number, out: Uint8Array): number {
  let prev = CharClass.Delimiter;
  let highest = 0;
  for (let j = start; j < end; j++) {
    const current = classOf(text[j]);
    const bonus = bonusFor(prev, current);
    out[j] = bonus;
    if (bonus > highest) highest = bonus;
    prev = current;
  }
  return highest;
}

/** One bit per letter, one for digits, a few for punctuation: a cheap "cannot match" test. */
export function charMask(lowerText: Uint16Array, start: number, end: number): number {
  let mask = 0;
  for (let j = start; j < end; j++) mask |= maskBit(lowerText[j]);
  return mask;
}

function maskBit(code: number): number {
  if (code >= 97 && code <= 122) return 1 << (code - 97);
  if (code >= 48 && code <= 57) return 1 << 26;
  if (code === 46) return 1 << 27;
  if (code === 45 || code === 95) return 1 << 28;
  if (code === 47) return 1 << 29;
  return 1 << 30;
}

interface Row {
  pos: Int32Array;
  score: Int32Array;
  run: Int32Array;
}

const newRow = (size: number): Row => ({ pos: new Int32Array(size), score: new Int32Array(size), run: new Int32Array(size) });

/** Reusable DP memory; one per index, grown on demand. */
export class Scratch {
  H = new Int32Array(4096);
  C = new Int32Array(4096);
  F = new Int32Array(64);
  lastIdx = 0;

  rowA = newRow(256);
  rowB = newRow(256);

  ensureRows(width: number): void {
    if (this.rowA.pos.length < width) {
      this.rowA = newRow(width * 2);
      this.rowB = newRow(width * 2);
    }
  }

  ensure(cells: number, patternLength: number): void {
    if (this.H.length < cells) {
      this.H = new Int32Array(cells * 2);
      this.C = new Int32Array(cells * 2);
    }
    if (this.F.length < patternLength) this.F = new Int32Array(patternLength * 2);
  }
}

/** The most `terms` patterns of `chars` characters in all can score where no bonus exceeds `maxBonus`. */
export function scoreCeiling(chars: number, terms: number, maxBonus: number): number {
  return chars * (SCORE_MATCH + maxBonus) + terms * maxBonus * (BONUS_FIRST_CHAR_MULTIPLIER - 1);
}

/**
 * Best alignment score of `pattern` in text[start, end), or -1 when it is not a
 * subsequence. With `positions`, also pushes the matched indexes (absolute, last first).
 */
export function fuzzyScore(
  text: Uint16Array,
  bonus: Uint8Array,
  start: number,
  end: number,
  pattern: Uint16Array,
  scratch: Scratch,
  positions?: number[],
): number {
  if (!findWindow(text, start, end, pattern, scratch)) return -1;
  return positions ? alignWindow(text, bonus, pattern, scratch, positions) : scoreWindow(text, bonus, pattern, scratch);
}

/**
 * Phase 1: is `pattern` a subsequence of text[start, end)? On true, scratch holds the
 * first greedy occurrence of each pattern char and the last occurrence of the last one.
 */
export function findWindow(text: Uint16Array, start: number, end: number, pattern: Uint16Array, scratch: Scratch): boolean {
  const M = pattern.length;
  scratch.ensure(0, M);
  const F = scratch.F;
  let pidx = 0;
  for (let j = start; j < end && pidx < M; j++) {
    if (text[j] === pattern[pidx]) F[pidx++] = j;
  }
  if (pidx < M) return false;
  const last = pattern[M - 1];
  let lastIdx = end - 1;
  while (text[lastIdx] !== last) lastIdx--;
  scratch.lastIdx = lastIdx;
  return true;
}

/**
 * The same score as alignWindow without its matrix. In fzf's DP a row's value at any
 * cell is the last "taken" match of that row decayed by the gap since (gap start 3,
 * then 1 a char, floored at 0), so each row is kept as its list of taken matches and
 * only cells where the pattern char occurs are visited. The tests check that both agree.
 * It stops early, returning some score below `minScore`, once the path cannot reach
 * `minScore` any more (`maxBonus`: the highest position bonus in the path).
 */
export function scoreWindow(
  text: Uint16Array,
  bonus: Uint8Array,
  pattern: Uint16Array,
  scratch: Scratch,
  minScore = Number.NEGATIVE_INFINITY,
  maxBonus = BONUS_BOUNDARY_WHITE,
): number {
  const M = pattern.length;
  const F = scratch.F;
  const f0 = F[0];
  const lastIdx = scratch.lastIdx;
  if (M === 1) return singleCharScore(text, bonus, f0, lastIdx, pattern[0]);
  scratch.ensureRows(lastIdx - f0 + 1);
  let prev = scratch.rowA;
  let next = scratch.rowB;
  // Row 0 takes every occurrence (fzf's first row does not compare with its carry).
  let prevCount = 0;
  const p0 = pattern[0];
  for (let j = f0; j <= lastIdx; j++) {
    if (text[j] !== p0) continue;
    prev.pos[prevCount] = j;
    prev.score[prevCount] = SCORE_MATCH + bonus[j] * BONUS_FIRST_CHAR_MULTIPLIER;
    prev.run[prevCount++] = 1;
  }
  let best = 0;
  for (let i = 1; i < M; i++) {
    const pc = pattern[i];
    let count = 0;
    let k = 0; // the last taken match of the previous row at or before j - 1
    for (let j = F[i]; j <= lastIdx; j++) {
      if (text[j] !== pc) continue;
      while (k + 1 < prevCount && prev.pos[k + 1] <= j - 1) k++;
      const diagGap = j - 1 - prev.pos[k];
      const diag = diagGap === 0 ? prev.score[k] : Math.max(0, prev.score[k] - diagGap - 2);
      const carry = count === 0 ? -1 : next.score[count - 1] - (j - next.pos[count - 1]) - 2;
      let b = bonus[j];
      let consecutive = diagGap === 0 ? prev.run[k] + 1 : 1;
      if (consecutive > 1) {
        const chunkBonus = bonus[j - consecutive + 1];
        if (b >= BONUS_BOUNDARY && b > chunkBonus) consecutive = 1;
        else b = Math.max(b, BONUS_CONSECUTIVE, chunkBonus);
      }
      const score = diag + SCORE_MATCH + b;
      if (score < carry) continue; // the gap from an earlier match of this row is worth more
      next.pos[count] = j;
      next.score[count] = score;
      next.run[count++] = consecutive;
      if (score > best) best = score;
    }
    // No chain from this row can reach minScore: each later char adds at most a match and the best bonus.
    if (best + (M - 1 - i) * (SCORE_MATCH + Math.max(BONUS_CONSECUTIVE, maxBonus)) < minScore) return best;
    if (i < M - 1) best = 0;
    [prev, next] = [next, prev];
    prevCount = count;
  }
  return best;
}

/**
 * fzf's phases 2 and 3 as a full M x W matrix over the window findWindow left in
 * scratch, kept for its backtracking: the matched positions of the few hits shown.
 */
export function alignWindow(text: Uint16Array, bonus: Uint8Array, pattern: Uint16Array, scratch: Scratch, positions: number[]): number {
  const M = pattern.length;
  const F = scratch.F;
  const f0 = F[0];
  const lastIdx = scratch.lastIdx;
  if (M === 1) return singleCharScore(text, bonus, f0, lastIdx, pattern[0], positions);

  const W = lastIdx - f0 + 1;
  scratch.ensure(M * W, M);
  const { H, C } = scratch;
  // Phase 2: the first row.
  const p0 = pattern[0];
  let prevH = 0;
  let inGap = false;
  for (let off = 0; off < W; off++) {
    const j = f0 + off;
    if (text[j] === p0) {
      prevH = SCORE_MATCH + bonus[j] * BONUS_FIRST_CHAR_MULTIPLIER;
      C[off] = 1;
      inGap = false;
    } else {
      prevH = Math.max(prevH + (inGap ? SCORE_GAP_EXTENSION : SCORE_GAP_START), 0);
      C[off] = 0;
      inGap = true;
    }
    H[off] = prevH;
  }
  // Phase 3: the other rows; a cell is the best of "match here" (diagonal) and "gap" (left).
  let maxScore = 0;
  let maxPos = 0;
  for (let i = 1; i < M; i++) {
    const row = i * W;
    const prevRow = row - W;
    const pc = pattern[i];
    const first = F[i] - f0;
    for (let off = 0; off < first; off++) {
      H[row + off] = 0;
      C[row + off] = 0;
    }
    inGap = false;
    for (let off = first; off < W; off++) {
      const j = f0 + off;
      const s2: number = H[row + off - 1] + (inGap ? SCORE_GAP_EXTENSION : SCORE_GAP_START);
      let s1 = 0;
      let consecutive = 0;
      if (text[j] === pc) {
        s1 = H[prevRow + off - 1] + SCORE_MATCH;
        let b = bonus[j];
        consecutive = C[prevRow + off - 1] + 1;
        if (consecutive > 1) {
          const chunkBonus = bonus[j - consecutive + 1];
          // A new boundary inside a run starts a new chunk rather than riding the old one.
          if (b >= BONUS_BOUNDARY && b > chunkBonus) consecutive = 1;
          else b = Math.max(b, BONUS_CONSECUTIVE, chunkBonus);
        }
        if (s1 + b < s2) {
          s1 += bonus[j];
          consecutive = 0;
        } else {
          s1 += b;
        }
      }
      C[row + off] = consecutive;
      inGap = s1 < s2;
      const score = Math.max(s1, s2, 0);
      if (i === M - 1 && score > maxScore) {
        maxScore = score;
        maxPos = j;
      }
      H[row + off] = score;
    }
  }
  backtrack(H, C, F, M, W, f0, maxPos, positions);
  return maxScore;
}

function singleCharScore(text: Uint16Array, bonus: Uint8Array, from: number, to: number, char: number, positions?: number[]): number {
  let best = -1;
  let bestPos = from;
  for (let j = from; j <= to; j++) {
    if (text[j] !== char) continue;
    const score = SCORE_MATCH + bonus[j] * BONUS_FIRST_CHAR_MULTIPLIER;
    if (score > best) {
      best = score;
      bestPos = j;
    }
  }
  positions?.push(bestPos);
  return best;
}

// Walks back from the best cell, preferring to stay in a consecutive run (as fzf does).
function backtrack(H: Int32Array, C: Int32Array, F: Int32Array, M: number, W: number, f0: number, maxPos: number, positions: number[]): void {
  let i = M - 1;
  let j = maxPos;
  let preferMatch = true;
  for (;;) {
    const I = i * W;
    const j0 = j - f0;
    const s = H[I + j0];
    const diag = i > 0 && j >= F[i] ? H[I - W + j0 - 1] : 0;
    const left = j > F[i] ? H[I + j0 - 1] : 0;
    if (s > diag && (s > left || (s === left && preferMatch))) {
      positions.push(j);
      if (i === 0) return;
      i--;
    }
    preferMatch = C[I + j0] > 1 || (I + W + j0 + 1 < M * W && C[I + W + j0 + 1] > 0);
    j--;
  }
}
