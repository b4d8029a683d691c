import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileIndex } from './file-index.js';

const index = (paths: string[]) => new FileIndex(paths.join('\0'));
const ranked = (paths: string[], query: string, limit = 50) => index(paths).query(query, limit).hits.map((h) => h.path);

describe('FileIndex ranking', () => {
  it('puts an exact file name before a scattered match, whatever git order says', () => {
    const paths = ['b/u/t/t/o/n/x.ts', 'lib/big-utility-toolkit-on.ts', 'src/components/Button.tsx'];
    assert.deepEqual(ranked(paths, 'button'), ['src/components/Button.tsx', 'lib/big-utility-toolkit-on.ts', 'b/u/t/t/o/n/x.ts']);
  });

  it('prefers consecutive characters and word boundaries', () => {
    assert.deepEqual(ranked(['xaxbxc.txt', 'src/abc.txt'], 'abc'), ['src/abc.txt', 'xaxbxc.txt']);
    assert.deepEqual(ranked(['src/parserTokens.ts', 'src/pat.ts'], 'pt'), ['src/pat.ts', 'src/parserTokens.ts']);
    assert.deepEqual(ranked(['strange_options.go', 'src/options.go'], 'so')[0], 'src/options.go');
  });

  it('prefers a match in the file name over one in its folders', () => {
    assert.deepEqual(ranked(['utils/index.ts', 'src/utils.ts'], 'utils'), ['src/utils.ts', 'utils/index.ts']);
  });

  it('breaks ties with the shorter path', () => {
    assert.deepEqual(ranked(['deep/nested/folder/readme.md', 'docs/readme.md', 'readme.md'], 'readme'), [
      'readme.md',
      'docs/readme.md',
      'deep/nested/folder/readme.md',
    ]);
  });

  it('matches case-insensitively unless the query has an uppercase letter (smart case)', () => {
    const paths = ['src/Makefile', 'src/makefile.old'];
    assert.deepEqual(ranked(paths, 'makefile').sort(), [...paths].sort());
    assert.deepEqual(ranked(paths, 'Makefile'), ['src/Makefile']);
  });

  it('requires every space-separated term to match', () => {
    const paths = ['src/server/router.ts', 'src/client/router.ts', 'src/server/app.ts'];
    assert.deepEqual(ranked(paths, 'server router'), ['src/server/router.ts']);
    assert.deepEqual(ranked(paths, '  router   client '), ['src/client/router.ts']);
  });

  it('reports the matched positions for highlighting', () => {
    const [hit] = index(['src/components/Button.tsx']).query('cbtn', 1).hits;
    assert.deepEqual(hit.positions, [4, 15, 17, 20]);
    assert.equal([...hit.positions].map((p) => hit.path[p]).join('').toLowerCase(), 'cbtn');
  });

  it('honours the limit and counts every match', () => {
    const paths = Array.from({ length: 30 }, (_, i) => `pkg${i}/file${i}.ts`);
    const result = index(paths).query('file', 5);
    assert.equal(result.hits.length, 5);
    assert.equal(result.total, 30);
    assert.deepEqual(result.hits.map((h) => h.path).slice(0, 3), ['pkg0/file0.ts', 'pkg1/file1.ts', 'pkg2/file2.ts']);
  });

  it('answers an empty query with the files in git order and no match with nothing', () => {
    const paths = ['a.ts', 'b.ts', 'c.ts'];
    const empty = index(paths).query('   ', 2);
    assert.deepEqual(empty.hits.map((h) => h.path), ['a.ts', 'b.ts']);
    assert.equal(empty.total, 3);
    assert.deepEqual(index(paths).query('zzz', 10), { hits: [], total: 0 });
    assert.deepEqual(index([]).query('a', 10), { hits: [], total: 0 });
  });

  it('handles non-ASCII names', () => {
    assert.deepEqual(ranked(['docs/Überblick.md', 'docs/other.md'], 'überb'), ['docs/Überblick.md']);
    assert.deepEqual(ranked(['文档/说明.md', 'x.md'], '说明'), ['文档/说明.md']);
  });

  it('keeps the best k when many paths match (the heap agrees with a full sort)', () => {
    const paths = Array.from({ length: 2000 }, (_, i) => `dir${i % 37}/sub${i % 11}/name${(i * 7919) % 2000}.ts`);
    const idx = index(paths);
    const all = idx.query('n1', 5000).hits;
    const top = idx.query('n1', 25).hits;
    assert.deepEqual(top, all.slice(0, 25));
    for (let k = 1; k < all.length; k++) {
      const [a, b] = [all[k - 1], all[k]];
      assert.ok(a.score > b.score || (a.score === b.score && a.path.length <= b.path.length), `${a.path} before ${b.path}`);
    }
  });
});

describe('FileIndex refinement while typing', () => {
  it('answers a query that extends the previous one exactly as a fresh index would', () => {
    const paths = Array.from({ length: 3000 }, (_, i) => `src/mod${i % 53}/Sub${i % 7}/file_${(i * 31) % 997}.ts`);
    const typing = index(paths);
    for (const query of ['f', 'fi', 'fil', 'file_9', 'file_9 ', 'file_9 s', 'file_9 sub3', 'file_9 Sub3', 'mod', 'x', 'xy', 'm']) {
      assert.deepEqual(typing.query(query, 20), index(paths).query(query, 20), query);
    }
  });
});
