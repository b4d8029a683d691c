import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignWindow, findWindow, fuzzyScore, Scratch, scoreWindow, toLowerCode, writeBonuses } from './fuzzy.js';

function prepared(path: string) {
  const text = Uint16Array.from(path, (c) => toLowerCode(c.charCodeAt(0)));
  const bonus = new Uint8Array(path.length);
  writeBonuses(Uint16Array.from(path, (c) => c.charCodeAt(0)), 0, path.length, bonus);
  return { text, bonus };
}
const codes = (pattern: string) => Uint16Array.from(pattern, (c) => c.charCodeAt(0));

function score(path: string, pattern: string): number {
  const { text, bonus } = prepared(path);
  return fuzzyScore(text, bonus, 0, path.length, codes(pattern), new Scratch());
}

describe('fuzzy scoring', () => {
  it('scores as fzf does: boundaries, camelCase, consecutive runs, gaps', () => {
    // first char at a path boundary: 16 + 2 * 9; consecutive chars keep the chunk's bonus 9
    assert.equal(score('src/abc', 'abc'), 16 + 18 + 2 * (16 + 9));
    assert.equal(score('abc', 'abc'), 16 + 18 + 2 * (16 + 9));
    assert.equal(score('xaxbxc', 'abc'), 16 + (16 - 3) + (16 - 3));
    assert.equal(score('fooBar', 'fb'), 16 + 18 + (16 + 7 - 3 - 1));
    assert.equal(score('abc', 'abd'), -1);
    assert.ok(score('src/components/Button.tsx', 'button') > score('b/u/t/t/o/n.ts', 'button'));
  });

  it('the matrix-free scorer agrees with the full matrix on random paths and patterns', () => {
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const alphabet = 'aabbcdeE/-_.Xx1';
    const scratch = new Scratch();
    let compared = 0;
    for (let n = 0; n < 20_000; n++) {
      const path = Array.from({ length: 1 + Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const pattern = Array.from({ length: 1 + Math.floor(random() * 6) }, () => 'abcdex/'[Math.floor(random() * 7)]).join('');
      const { text, bonus } = prepared(path);
      const p = codes(pattern);
      if (!findWindow(text, 0, path.length, p, scratch)) continue;
      const sparse = scoreWindow(text, bonus, p, scratch);
      const positions: number[] = [];
      const dense = alignWindow(text, bonus, p, scratch, positions);
      assert.equal(sparse, dense, `${JSON.stringify(path)} / ${JSON.stringify(pattern)}`);
      assert.equal(positions.length, pattern.length);
      assert.deepEqual(positions.map((q) => String.fromCharCode(text[q])).reverse().join(''), pattern);
      compared++;
    }
    assert.ok(compared > 5000, `only ${compared} matching cases`);
  });
});
