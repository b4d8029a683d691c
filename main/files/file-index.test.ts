import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileIndex } from './file-index.js';

const index = (paths: string[]) => FileIndex.build(paths.join('\0'));
const ranked = async (paths: string[], query: string, limit = 50) => (await index(paths)).query(query, limit).hits.map((h) => h.path);

describe('FileIndex ranking', async () => {
  it('puts an exact file name before a scattered match, whatever git order says', async () => {
    const paths = ['b/u/t/t/o/n/x.ts', 'lib/big-utility-toolkit-on.ts', 'src/components/Button.tsx'];
    assert.deepEqual(await ranked(paths, 'button'), ['src/components/Button.tsx', 'lib/big-utility-toolkit-on.ts', 'b/u/t/t/o/n/x.ts']);
  });

  it('prefers consecutive characters and word boundaries', async () => {
    assert.deepEqual(await ranked(['xaxbxc.txt', 'src/abc.txt'], 'abc'), ['src/abc.txt', 'xaxbxc.txt']);
    assert.deepEqual(await ranked(['src/parserTokens.ts', 'src/pat.ts'], 'pt'), ['src/pat.ts', 'src/parserTokens.ts']);
    assert.deepEqual((await ranked(['strange_options.go', 'src/options.go'], 'so'))[0], 'src/options.go');
  });

  it('prefers a match in the file name over one in its folders', async () => {
    assert.deepEqual(await ranked(['utils/index.ts', 'src/utils.ts'], 'utils'), ['src/utils.ts', 'utils/index.ts']);
  });

  it('breaks ties with the shorter path', async () => {
    assert.deepEqual(await ranked(['deep/nested/folder/readme.md', 'docs/readme.md', 'readme.md'], 'readme'), [
      'readme.md',
      'docs/readme.md',
      'deep/nested/folder/readme.md',
    ]);
  });

  it('matches case-insensitively unless the query has an uppercase letter (smart case)', async () => {
    const paths = ['src/Makefile', 'src/makefile.old'];
    assert.deepEqual((await ranked(paths, 'makefile')).sort(), [...paths].sort());
    assert.deepEqual(await ranked(paths, 'Makefile'), ['src/Makefile']);
  });

  it('requires every space-separated term to match', async () => {
    const paths = ['src/server/router.ts', 'src/client/router.ts', 'src/server/app.ts'];
    assert.deepEqual(await ranked(paths, 'server router'), ['src/server/router.ts']);
    assert.deepEqual(await ranked(paths, '  router   client '), ['src/client/router.ts']);
  });

  it('reports the matched positions for highlighting', async () => {
    const [hit] = (await index(['src/components/Button.tsx'])).query('cbtn', 1).hits;
    assert.deepEqual(hit.positions, [4, 15, 17, 20]);
    assert.equal([...hit.positions].map((p) => hit.path[p]).join('').toLowerCase(), 'cbtn');
  });

  it('honours the limit and counts every match', async () => {
    const paths = Array.from({ length: 30 }, (_, i) => `pkg${i}/file${i}.ts`);
    const result = (await index(paths)).query('file', 5);
    assert.equal(result.hits.length, 5);
    assert.equal(result.total, 30);
    assert.deepEqual(result.hits.map((h) => h.path).slice(0, 3), ['pkg0/file0.ts', 'pkg1/file1.ts', 'pkg2/file2.ts']);
  });

  it('answers an empty query with the files in git order and no match with nothing', async () => {
    const paths = ['a.ts', 'b.ts', 'c.ts'];
    const empty = (await index(paths)).query('   ', 2);
    assert.deepEqual(empty.hits.map((h) => h.path), ['a.ts', 'b.ts']);
    assert.equal(empty.total, 3);
    assert.deepEqual((await index(paths)).query('zzz', 10), { hits: [], total: 0 });
    assert.deepEqual((await index([])).query('a', 10), { hits: [], total: 0 });
  });

  it('handles non-ASCII names', async () => {
    assert.deepEqual(await ranked(['docs/Überblick.md', 'docs/other.md'], 'überb'), ['docs/Überblick.md']);
    assert.deepEqual(await ranked(['文档/说明.md', 'x.md'], '说明'), ['文档/说明.md']);
  });

  it('keeps the best k when many paths match (the heap agrees with a full sort)', async () => {
    const paths = Array.from({ length: 2000 }, (_, i) => `dir${i % 37}/sub${i % 11}/name${(i * 7919) % 2000}.ts`);
    const idx = await index(paths);
    const all = idx.query('n1', 5000).hits;
    const top = idx.query('n1', 25).hits;
    assert.deepEqual(top, all.slice(0, 25));
    for (let k = 1; k < all.length; k++) {
      const [a, b] = [all[k - 1], all[k]];
      assert.ok(a.score > b.score || (a.score === b.score && a.path.length <= b.path.length), `${a.path} before ${b.path}`);
    }
  });
});

describe('FileIndex refinement while typing', async () => {
  it('answers a query that extends the previous one exactly as a fresh index would', async () => {
    const paths = Array.from({ length: 3000 }, (_, i) => `src/mod${i % 53}/Sub${i % 7}/file_${(i * 31) % 997}.ts`);
    const typing = await index(paths);
    for (const query of ['f', 'fi', 'fil', 'file_9', 'file_9 ', 'file_9 s', 'file_9 sub3', 'file_9 Sub3', 'mod', 'x', 'xy', 'm']) {
      assert.deepEqual(typing.query(query, 20), (await index(paths)).query(query, 20), query);
    }
  });
});

describe('FileIndex.build', () => {
  it('builds a large listing in slices, giving the event loop turns in between', async () => {
    const paths = Array.from({ length: 25_000 }, (_, i) => `pkg${i % 100}/src/module${i}/index.ts`);
    let pauses = 0;
    const built = await FileIndex.build(paths.join('\0'), async () => {
      pauses++;
    });
    assert.ok(pauses >= 3, `${pauses} pauses`);
    assert.equal(built.size, 25_000);
    assert.deepEqual(built.query('module24999', 1).hits.map((h) => h.path), ['pkg99/src/module24999/index.ts']);
  });
});
