// A stand-in for the GitHub CLI (the GitHub API cannot be reached in tests): an
// executable script that records every call (argv, cwd, stdin) and answers only the
// exact argv it was told to expect, in gh's documented JSON shapes. Any other argv
// makes it fail loudly (exit 2), so a test notices when we call gh differently.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface FakeGhAnswer {
  /** The exact argv (after `gh`) this answer is for. */
  args: string[];
  /** Printed on stdout; objects and arrays are printed as JSON. */
  stdout?: unknown;
  stderr?: string;
  exitCode?: number;
}

export interface FakeGhCall {
  args: string[];
  cwd: string;
  stdin: string;
  /** The variables of RECORDED_ENV that gh was given. */
  env: Record<string, string>;
}

/** Environment variables the fake records: what gh must get, and tokens it must not. */
export const RECORDED_ENV = ['GH_PROMPT_DISABLED', 'SSH_AUTH_SOCK', 'GH_TOKEN', 'GITHUB_TOKEN', 'SYMPHONY_GATEWAY_TOKEN'];

export interface FakeGh {
  /** Absolute path of the executable (for the `binaryPaths` gh override). */
  path: string;
  /** Replaces the expected calls and their answers. */
  answer(answers: FakeGhAnswer[]): Promise<void>;
  calls(): Promise<FakeGhCall[]>;
  close(): Promise<void>;
}

const SCRIPT = (answersFile: string, callsFile: string) => `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
let stdin = '';
try { stdin = fs.readFileSync(0, 'utf8'); } catch {}
const env = Object.fromEntries(${JSON.stringify(RECORDED_ENV)}.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]]));
fs.appendFileSync(${JSON.stringify(callsFile)}, JSON.stringify({ args, cwd: process.cwd(), stdin, env }) + '\\n');
const answers = JSON.parse(fs.readFileSync(${JSON.stringify(answersFile)}, 'utf8'));
const found = answers.find((a) => JSON.stringify(a.args) === JSON.stringify(args));
if (!found) {
  process.stderr.write('fake gh: unexpected argv ' + JSON.stringify(args) + '\\n');
  process.exit(2);
}
if (found.stdout !== undefined) process.stdout.write(typeof found.stdout === 'string' ? found.stdout : JSON.stringify(found.stdout) + '\\n');
if (found.stderr) process.stderr.write(found.stderr);
process.exit(found.exitCode ?? 0);
`;

export async function createFakeGh(): Promise<FakeGh> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fake-gh-'));
  const executable = path.join(dir, 'gh');
  const answersFile = path.join(dir, 'answers.json');
  const callsFile = path.join(dir, 'calls.jsonl');
  await writeFile(answersFile, '[]');
  await writeFile(callsFile, '');
  await writeFile(executable, SCRIPT(answersFile, callsFile));
  await chmod(executable, 0o755);
  return {
    path: executable,
    answer: (answers) => writeFile(answersFile, JSON.stringify(answers)),
    calls: async () =>
      (await readFile(callsFile, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as FakeGhCall),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** gh's JSON for one line of a list endpoint under `--jq .[]`: compact objects, one a line. */
export function jsonLines(items: unknown[]): string {
  return items.map((item) => `${JSON.stringify(item)}\n`).join('');
}
