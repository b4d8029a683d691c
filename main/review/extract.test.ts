// Findings out of each form a reviewer's output takes, malformed items reported.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractFindings, toSeverity } from './extract.js';

describe('extractFindings', () => {
  test("codex's rendered review: title, priority, file relative to the tree, line range, body", () => {
    const text = [
      'The patch breaks addition.',
      '',
      'Full review comments:',
      '',
      '- [P1] add() subtracts — /repo/src/math.js:3-4',
      '  The function returns a - b.',
      '  Callers get wrong totals.',
      '',
      '- [P3] Typo — /elsewhere/log.js:9-9',
      '  recieved',
      '- not a finding line',
    ].join('\n');
    const result = extractFindings(text, '/repo');
    assert.equal(result.format, 'codex-text');
    assert.equal(result.summary, 'The patch breaks addition.');
    assert.deepEqual(result.findings[0], {
      severity: 'high', priority: 'P1', file: 'src/math.js', line: 3, endLine: 4, title: 'add() subtracts',
      body: 'The function returns a - b.\nCallers get wrong totals.', suggestion: null, confidence: null,
    });
    assert.equal(result.findings[1].file, '/elsewhere/log.js');
    assert.equal(result.findings[1].severity, 'low');
    assert.equal(result.invalid.length, 1);
    assert.match(result.invalid[0].error, /title — file/);
  });

  test("codex's review schema as JSON keeps confidence and priority", () => {
    const text = JSON.stringify({
      findings: [
        { title: '[P0] SQL injection', body: 'query built by concatenation', confidence_score: 0.9, priority: 0, code_location: { absolute_file_path: '/r/db.ts', line_range: { start: 7, end: 8 } } },
        { body: 'no title' },
      ],
      overall_correctness: 'patch is incorrect',
      overall_explanation: 'unsafe',
      overall_confidence_score: 0.8,
    });
    const result = extractFindings(text, '/r');
    assert.equal(result.format, 'codex-json');
    assert.deepEqual(
      [result.findings[0].title, result.findings[0].priority, result.findings[0].severity, result.findings[0].file, result.findings[0].line, result.findings[0].confidence],
      ['SQL injection', 'P0', 'critical', 'db.ts', 7, 0.9],
    );
    assert.equal(result.invalid[0].index, 1);
  });

  test('the claude prompt JSON array in a ```json block, the answer after an example', () => {
    const text = [
      'Example: ```json\n[{"title":"example"}]\n```',
      'My findings:',
      '```json',
      JSON.stringify([
        { severity: 'critical', file: 'src/a.ts', line: 12, title: 'Crash on empty input', description: 'x[0] on []', suggestion: 'check length', confidence: 0.7 },
        { severity: 'bogus', file: 'b.ts', line: '3', title: 'Odd severity' },
        { severity: 'high', line: 'twelve', title: 'Bad line' },
        { severity: 'low' },
      ]),
      '```',
    ].join('\n');
    const result = extractFindings(text);
    assert.equal(result.format, 'json-array');
    assert.equal(result.findings.length, 2);
    assert.deepEqual(result.findings[0], {
      severity: 'critical', priority: 'P0', file: 'src/a.ts', line: 12, endLine: 12, title: 'Crash on empty input',
      body: 'x[0] on []', suggestion: 'check length', confidence: 0.7,
    });
    assert.deepEqual([result.findings[1].severity, result.findings[1].priority, result.findings[1].line], ['low', 'P3', 3]);
    assert.deepEqual(result.invalid.map((item) => item.index), [2, 3]);
  });

  test('no review in the text', () => {
    assert.deepEqual(extractFindings('I could not review this.'), { findings: [], invalid: [], format: 'none', summary: null });
  });

  test('severity words of the original clients map onto ours', () => {
    assert.deepEqual(['warning', 'success', 'CRITICAL', 'nonsense'].map(toSeverity), ['medium', 'info', 'critical', 'low']);
  });
});
