// A command line (from package.json detection, a Procfile, or the user) becomes an argv
// array once, here, and is never handed to a shell: `;`, `&&`, `|`, redirections,
// `$(...)` and backticks are refused, not interpreted. Leading `NAME=value` words become
// environment variables; `$PORT` / `${PORT}` stay a placeholder that start fills in.
import { parse, quote } from 'shell-quote';
import { BadRequest } from '../errors.js';

export interface ParsedCommand {
  argv: string[];
  env: Record<string, string>;
}

/** Stands for the port the deployment gets; replaced in every argv word at start. */
export const PORT_PLACEHOLDER = '$PORT';
const VARIABLE_MARK = '\u0001';
const ENV_WORD = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Parses `line` into argv; throws 400 `shell_syntax_refused` naming what it refused. */
export function parseCommandLine(line: string, field = 'command'): ParsedCommand {
  const refuse = (what: string) =>
    new BadRequest(
      `${field} uses ${what}, which needs a shell; commands run without one. Write a single program with its arguments (or put the pipeline in a script file and run that).`,
      { field, refused: what },
      'shell_syntax_refused',
    );
  if (line.includes('`')) throw refuse('backticks (command substitution)');
  if (/\$\(/.test(line)) throw refuse('$( ) (command substitution)');
  if (/[\r\n]/.test(line)) throw refuse('several lines');
  const unknown: string[] = [];
  const words = parse(line, (name: string) => {
    if (name === 'PORT') return `${VARIABLE_MARK}PORT${VARIABLE_MARK}`;
    unknown.push(name || '$');
    return '';
  });
  const argv: string[] = [];
  for (const word of words) {
    if (typeof word !== 'string') {
      if ('comment' in word) break;
      if ('op' in word && word.op === 'glob') throw refuse(`a glob (${word.pattern})`);
      throw refuse(`the shell operator ${'op' in word ? `'${word.op}'` : 'it found'}`);
    }
    argv.push(word.split(`${VARIABLE_MARK}PORT${VARIABLE_MARK}`).join(PORT_PLACEHOLDER));
  }
  if (unknown.length) throw refuse(`the variable $${unknown[0]} (only $PORT is filled in)`);
  const env: Record<string, string> = {};
  while (argv.length && ENV_WORD.test(argv[0])) {
    const [, name, value] = ENV_WORD.exec(argv.shift()!)!;
    if (/^SYMPHONY_/i.test(name)) throw new BadRequest(`${field} cannot set ${name}: SYMPHONY_* variables are the gateway's own.`, { field }, 'env_refused');
    env[name] = value;
  }
  if (!argv.length) throw new BadRequest(`${field} names no program to run.`, { field }, 'command_empty');
  return { argv, env };
}

/** The argv with the port filled in where the placeholder stands. */
export function withPort(argv: readonly string[], port: number): string[] {
  return argv.map((word) => word.split(PORT_PLACEHOLDER).join(String(port)));
}

/** How an argv array reads as one line (shown to the user; never executed as a line). */
export function displayCommand(argv: readonly string[], env: Record<string, string> = {}): string {
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${quote([value])}`);
  // The placeholder is shown as the user would write it, not quoted away.
  return [...assignments, quote([...argv]).replaceAll("'$PORT'", '$PORT').replaceAll('\\$PORT', '$PORT')].join(' ');
}
