// Every route family of the gateway, in one visible list. The eager ones load with the
// gateway (the web client's first calls and the desktop's own screens); each lazy one loads
// on the first authenticated request to a table path under its prefixes (route-family.ts).
// A new family: add its route file, its table rows in shared/operations.ts, and a lazy(...)
// line here whose prefixes cover its paths and no other family's.
import { eager, lazy, type RouteFamily } from '../route-family.js';
import { routes as desktop } from './desktop.js';
import { routes as git } from './git.js';
import { routes as health } from './health.js';
import { routes as pairing } from './pairing.js';
import { routes as processes } from './processes.js';
import { routes as repos } from './repos.js';
import { routes as settings } from './settings.js';

const API = '/api/gateway';
const SYMPHONY = `${API}/symphony`;

export const routeFamilies: readonly RouteFamily[] = [
  eager(health),
  eager(pairing),
  eager(desktop),
  eager(processes),
  eager(settings),
  eager(repos),
  eager(git),
  lazy('files', [`${API}/directories`, `${API}/files/`], () => import('./files.js')),
  lazy('github', [`${API}/git/pr`, `${API}/git/user`], () => import('./github.js')),
  lazy('local-changes', [`${API}/git/local-changes`], () => import('./local-changes.js')),
  lazy('run-viewer', [`${API}/run-viewer-extract`], () => import('./run-viewer.js')),
  lazy('chats', [`${API}/terminal-chat`, `${API}/ticket-chat`, `${API}/run-viewer-chat`], () => import('./chats.js')),
  lazy('gateway-chat', [`${API}/chat`], () => import('./gateway-chat.js')),
  lazy('deploy', [`${API}/deploy`], () => import('./deploy.js')),
  lazy(
    'symphony-chats',
    [`${SYMPHONY}/chat/`, `${SYMPHONY}/chat-history/`, `${SYMPHONY}/comment-chat/`, `${SYMPHONY}/commit-message/`, `${SYMPHONY}/sessions`],
    () => import('./symphony-chats.js'),
  ),
  lazy('attachments', [`${SYMPHONY}/attachments/`, `${SYMPHONY}/upload/`], () => import('./attachments.js')),
  lazy('relay', [`${API}/desktop/relay`], () => import('./relay.js')),
  lazy('codex', [`${API}/codex/`], () => import('./codex.js')),
  lazy(
    'learnings',
    [`${API}/learnings`, `${SYMPHONY}/extract-learnings`, `${SYMPHONY}/process-learnings`, `${SYMPHONY}/process-all-learnings`, `${SYMPHONY}/pending-learnings`, `${SYMPHONY}/learnings-status/`, `${SYMPHONY}/record-learning-use`],
    () => import('./learnings.js'),
  ),
  lazy(
    'symphony',
    [`${SYMPHONY}/launch`, `${SYMPHONY}/status`, `${SYMPHONY}/kill`, `${SYMPHONY}/logs/`, `${SYMPHONY}/plan/`, `${SYMPHONY}/judges/`, `${SYMPHONY}/runs/`, `${SYMPHONY}/worktrees/`, `${API}/work-directory/`],
    () => import('./symphony.js'),
  ),
  lazy('loops', [`${SYMPHONY}/loop`, `${SYMPHONY}/plan-loop/`], () => import('./loops.js')),
];
