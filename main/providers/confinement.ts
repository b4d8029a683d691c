// What an agent may touch: every agent start (chats, ticket runs, reviews, learnings)
// names a level and a root; the providers turn that into the OS sandbox, the CLI's own
// sandbox flags and the per-tool checks. No route or domain module builds CLI flags itself.

/** `read`: look at files inside the root. `write`: edit inside the root and run commands. */
export type ConfinementLevel = 'read' | 'write';

export interface AgentConfinement {
  level: ConfinementLevel;
  /** The one folder the agent works in (usually its cwd). */
  root: string;
  /** Further folders the agent may read but never write (e.g. a ticket chat's context repos). */
  readRoots?: string[];
  /** Load the folder's own project configuration (hooks, MCP servers, settings): only for a
   *  repository the user marked trusted; never for archives, PR branches or uploads. */
  trustProjectConfig?: boolean;
}

export function isReadOnly(confinement: AgentConfinement): boolean {
  return confinement.level === 'read';
}
