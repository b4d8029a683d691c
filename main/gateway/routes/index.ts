// Every route family of the gateway, in one visible list.
import type { AnyRoute } from '../route.js';
import { routes as attachments } from './attachments.js';
import { routes as chats } from './chats.js';
import { routes as codex } from './codex.js';
import { routes as deploy } from './deploy.js';
import { routes as desktop } from './desktop.js';
import { routes as files } from './files.js';
import { routes as git } from './git.js';
import { routes as github } from './github.js';
import { routes as health } from './health.js';
import { routes as localChanges } from './local-changes.js';
import { routes as learnings } from './learnings.js';
import { routes as pairing } from './pairing.js';
import { routes as processes } from './processes.js';
import { routes as loops } from './loops.js';
import { routes as relay } from './relay.js';
import { routes as repos } from './repos.js';
import { routes as runViewer } from './run-viewer.js';
import { routes as settings } from './settings.js';
import { routes as symphonyChats } from './symphony-chats.js';
import { routes as symphony } from './symphony.js';

export const routeFamilies: ReadonlyArray<readonly AnyRoute[]> = [health, pairing, desktop, files, repos, git, github, localChanges, processes, settings, runViewer, chats, deploy, symphonyChats, attachments, relay, codex, learnings, symphony, loops];
