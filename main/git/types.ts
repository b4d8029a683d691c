// Contracts the git module depends on but does not own.

/**
 * The workspace path guard (main/files/workspace.ts, WorkspaceGuard): resolves a
 * user-given path to its realpath, or throws Forbidden (`path_not_allowed`) when
 * it is outside the workspace root, the managed repositories and their worktrees,
 * or inside a secret folder.
 */
export interface PathGuard {
  resolve(userPath: string): Promise<string>;
  /** `~` / `~/...` to the user's home (resolve() does this itself). */
  expandHome?(userPath: string): string;
}
