// Parses `git status --porcelain=v2 --branch -z` into the shape the cloud app reads
// (`currentBranch`, `hasChanges`, `files`) plus the categories users expect.

export type FileChange = 'modified' | 'added' | 'deleted' | 'renamed' | 'copied' | 'typechange' | 'untracked' | 'conflicted';

export interface StatusFile {
  path: string;
  /** The old path of a rename or copy. */
  origPath?: string;
  status: FileChange;
  /** Change recorded in the index. */
  staged: boolean;
  /** Change in the work tree not yet staged. */
  unstaged: boolean;
  /** Porcelain XY code, e.g. "M." or "??". */
  code: string;
}

export interface GitStatus {
  currentBranch: string | null;
  detached: boolean;
  headSha: string | null;
  upstream: string | null;
  ahead: number;
  behind: number;
  hasChanges: boolean;
  files: StatusFile[];
  staged: string[];
  unstaged: string[];
  untracked: string[];
  conflicted: string[];
}

const LETTER: Record<string, FileChange> = {
  M: 'modified',
  A: 'added',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'typechange',
};

function changeOf(code: string): FileChange {
  const index = code[0];
  const tree = code[1];
  return LETTER[index !== '.' ? index : tree] ?? 'modified';
}

/** Splits on spaces but keeps the last field (the path, which may contain spaces) whole. */
function fields(entry: string, count: number): string[] {
  const parts: string[] = [];
  let rest = entry;
  for (let i = 0; i < count - 1; i++) {
    const space = rest.indexOf(' ');
    parts.push(rest.slice(0, space));
    rest = rest.slice(space + 1);
  }
  parts.push(rest);
  return parts;
}

export function parseStatus(output: string): GitStatus {
  const status: GitStatus = {
    currentBranch: null,
    detached: false,
    headSha: null,
    upstream: null,
    ahead: 0,
    behind: 0,
    hasChanges: false,
    files: [],
    staged: [],
    unstaged: [],
    untracked: [],
    conflicted: [],
  };
  const entries = output.split('\0');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (!entry) continue;
    if (entry.startsWith('# ')) {
      readHeader(status, entry.slice(2));
      continue;
    }
    const kind = entry[0];
    if (kind === '1') {
      const [, code, , , , , , , path] = fields(entry, 9);
      addTracked(status, { path, code, status: changeOf(code) });
    } else if (kind === '2') {
      const [, code, , , , , , , , path] = fields(entry, 10);
      // With -z the original path of a rename is the next NUL-separated entry.
      const origPath = entries[++i];
      addTracked(status, { path, origPath, code, status: changeOf(code) });
    } else if (kind === 'u') {
      const [, code, , , , , , , , , path] = fields(entry, 11);
      status.files.push({ path, code, status: 'conflicted', staged: false, unstaged: true });
      status.conflicted.push(path);
    } else if (kind === '?') {
      const path = entry.slice(2);
      status.files.push({ path, code: '??', status: 'untracked', staged: false, unstaged: true });
      status.untracked.push(path);
    }
  }
  status.hasChanges = status.files.length > 0;
  return status;
}

function readHeader(status: GitStatus, header: string): void {
  const space = header.indexOf(' ');
  const key = header.slice(0, space);
  const value = header.slice(space + 1);
  if (key === 'branch.oid') status.headSha = value === '(initial)' ? null : value;
  else if (key === 'branch.head') {
    status.detached = value === '(detached)';
    status.currentBranch = status.detached ? null : value;
  } else if (key === 'branch.upstream') status.upstream = value;
  else if (key === 'branch.ab') {
    const match = /^\+(\d+) -(\d+)$/.exec(value);
    if (match) {
      status.ahead = Number(match[1]);
      status.behind = Number(match[2]);
    }
  }
}

function addTracked(status: GitStatus, file: { path: string; origPath?: string; code: string; status: FileChange }): void {
  const staged = file.code[0] !== '.';
  const unstaged = file.code[1] !== '.';
  status.files.push({ ...file, staged, unstaged, ...(file.origPath === undefined ? {} : { origPath: file.origPath }) });
  if (staged) status.staged.push(file.path);
  if (unstaged) status.unstaged.push(file.path);
}
