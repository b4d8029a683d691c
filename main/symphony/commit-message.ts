// A commit title and description for a ticket's uncommitted work: one fast model turn
// over the worktree's diff (staged and unstaged against HEAD, capped), in an empty
// folder with the `read` profile, so the model sees only what we send it. Files that
// hold secrets by their name are left out of the diff and the file list (and named in
// the reply); credential-looking values elsewhere are redacted. Any failure, or no
// answer within the timeout, gives a default message built from the ticket and files.
import { AppError } from '../errors.js';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { DiffFile } from '../git/diff.js';
import type { GitService } from '../git/git.js';
import { isSecretFile, redactSecretValues } from '../git/secret-files.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ProviderId } from '../providers/types.js';

export const COMMIT_MESSAGE_TIMEOUT_MS = 30_000;
const DIFF_CAP_BYTES = 15_000;
const MAX_FILES_LISTED = 200;
/** The fast model of each agent (codex: its default). */
const FAST_MODEL: Partial<Record<ProviderId, string>> = { claude: 'haiku' };

export interface CommitMessage {
  title: string;
  description: string;
  source: 'claude' | 'codex' | 'default';
  excludedFiles: string[];
}

export class CommitMessages {
  constructor(
    private readonly deps: {
      git: Pick<GitService, 'diff'>;
      providers: ProviderRegistry;
      dataDir: string;
      log: Logger;
      timeoutMs?: number;
    },
  ) {}

  async write(input: { ticketId: string; cwd: string; provider?: ProviderId; signal: AbortSignal; caller?: string }): Promise<CommitMessage> {
    const diff = await this.deps.git.diff(input.cwd, { maxBytes: DIFF_CAP_BYTES, excludeSecrets: true }, input.signal);
    const excludedFiles = diff.files.filter((f) => isSecretFile(f.path) || (f.oldPath !== undefined && isSecretFile(f.oldPath))).map((f) => f.path);
    const visible = diff.files.filter((f) => !excludedFiles.includes(f.path));
    const fallback = defaultMessage(input.ticketId, diff.files, excludedFiles);
    if (diff.files.length === 0) return fallback;
    const provider = input.provider === 'codex' ? 'codex' : 'claude';
    try {
      const answer = await this.ask(provider, prompt(input.ticketId, visible, withoutSecretFiles(diff.diff), diff.truncated), input.signal, input.caller);
      const parsed = firstMessageObject(answer);
      if (!parsed) throw new Error('the answer held no {title, description} object');
      return { title: parsed.title.slice(0, 200), description: parsed.description, source: provider, excludedFiles };
    } catch (error) {
      // A remote caller past its agent cap with a full queue is told so (429); one that waited out the timeout gets the default.
      if (error instanceof AppError && error.code === 'too_many_agents') throw error;
      this.deps.log.info({ err: (error as Error).message, ticketId: input.ticketId }, 'commit message: using the default');
      return fallback;
    }
  }

  private async ask(provider: ProviderId, text: string, signal: AbortSignal, caller: string | undefined): Promise<string> {
    // An empty folder of its own: the model has nothing to read but the prompt.
    const scratch = path.join(this.deps.dataDir, 'chats', 'commit-message');
    await mkdir(scratch, { recursive: true, mode: 0o700 });
    const timeout = AbortSignal.timeout(this.deps.timeoutMs ?? COMMIT_MESSAGE_TIMEOUT_MS);
    const turnSignal = AbortSignal.any([signal, timeout]);
    // A remote caller's start takes an agent slot; past its cap it waits (within the timeout) like a chat turn.
    const turn = await this.deps.providers.get(provider).startTurn({
      prompt: text, cwd: scratch, model: FAST_MODEL[provider], signal: turnSignal, owner: 'commit-message',
      confinement: { level: 'read', root: scratch, ...(caller === undefined ? {} : { caller: { key: caller, signal: turnSignal } }) },
    });
    let answer = '';
    let success = false;
    for await (const event of turn.events) {
      if (event.type === 'text') answer += event.content;
      else if (event.type === 'result') success = event.success;
    }
    if (timeout.aborted) throw new Error('the model took longer than the timeout');
    if (!success) throw new Error('the model turn failed');
    return answer;
  }
}

function prompt(ticketId: string, files: DiffFile[], diff: string, truncated: boolean): string {
  const listed = files.slice(0, MAX_FILES_LISTED).map((f) => `- ${f.status} ${f.path}`);
  if (files.length > MAX_FILES_LISTED) listed.push(`- ... and ${files.length - MAX_FILES_LISTED} more`);
  return [
    `Write a git commit message for the work on ticket ${ticketId}.`,
    'Answer with one JSON object and nothing else: {"title": "...", "description": "..."}.',
    'The title is imperative, at most 72 characters; the description says what changed and why, in a few lines.',
    'Changed files:',
    ...listed,
    `The diff${truncated ? ' (cut at 15000 characters)' : ''}:`,
    '```diff',
    diff,
    '```',
  ].join('\n');
}

/** Per-file sections of a unified diff, without those of secret files (a second fence behind git's pathspecs). */
function withoutSecretFiles(diff: string): string {
  const sections = diff.split(/^(?=diff --git )/m);
  return redactSecretValues(
    sections
      .filter((section) => {
        const header = /^diff --git "?a\/(.+?)"? "?b\/(.+?)"?$/m.exec(section);
        return !header || !(isSecretFile(header[1]) || isSecretFile(header[2]));
      })
      .join(''),
  );
}

/** The first JSON object in `text` with string `title` and `description`. */
export function firstMessageObject(text: string): { title: string; description: string } | null {
  for (let start = text.indexOf('{'); start !== -1; start = text.indexOf('{', start + 1)) {
    for (let end = text.indexOf('}', start); end !== -1; end = text.indexOf('}', end + 1)) {
      try {
        const value = JSON.parse(text.slice(start, end + 1)) as { title?: unknown; description?: unknown };
        if (typeof value.title === 'string' && value.title.trim() && typeof value.description === 'string') {
          return { title: value.title.trim(), description: value.description.trim() };
        }
      } catch {
        // Not a whole object yet: try the next closing brace.
      }
    }
  }
  return null;
}

function defaultMessage(ticketId: string, files: DiffFile[], excludedFiles: string[]): CommitMessage {
  const listed = files.slice(0, MAX_FILES_LISTED).map((f) => `- ${f.path}`);
  return {
    title: `Work on ${ticketId}`,
    description: listed.length ? `Changed files:\n${listed.join('\n')}` : '',
    source: 'default',
    excludedFiles,
  };
}
