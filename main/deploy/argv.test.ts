import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../errors.js';
import { displayCommand, parseCommandLine, withPort } from './argv.js';

const refused = (line: string) => {
  assert.throws(() => parseCommandLine(line), (error: unknown) => error instanceof AppError && error.code === 'shell_syntax_refused', line);
};

test('a command line becomes argv once: quotes honoured, env words split off, $PORT kept as a placeholder', () => {
  assert.deepEqual(parseCommandLine(`PORT=3000 NODE_ENV=dev node "my server.js" --port $PORT --host=127.0.0.1:\${PORT}`), {
    argv: ['node', 'my server.js', '--port', '$PORT', '--host=127.0.0.1:$PORT'],
    env: { PORT: '3000', NODE_ENV: 'dev' },
  });
  assert.deepEqual(withPort(['x', '--port', '$PORT', 'a:$PORT'], 4100), ['x', '--port', '4100', 'a:4100']);
});

test('shell operators, substitutions, globs, other variables and several lines are refused, never interpreted', () => {
  for (const line of ['node a.js; touch pwned', 'a && b', 'a || b', 'a | b', 'a > out', 'a < in', 'a &', 'echo $(touch pwned)', 'echo `touch pwned`', 'rm *.js', 'echo $HOME', 'a\nb']) {
    refused(line);
  }
  assert.throws(() => parseCommandLine('SYMPHONY_TOKEN=x node a.js'), /SYMPHONY_/);
  assert.throws(() => parseCommandLine('A=1'), /names no program/);
});

test('a trailing comment is dropped; quoted operators are plain words', () => {
  assert.deepEqual(parseCommandLine(`node a.js ';' "&&" # a comment`).argv, ['node', 'a.js', ';', '&&']);
});

test('the display line parses back to the same argv', () => {
  const argv = ['python3', 'manage.py', 'runserver', '127.0.0.1:$PORT', 'it\'s', 'a b'];
  const shown = displayCommand(argv, { DEBUG: '1' });
  assert.deepEqual(parseCommandLine(shown), { argv, env: { DEBUG: '1' } });
});
