// Every route family of the gateway, in one visible list. The eager ones load as soon as
// the port is open (the web client's first calls and the desktop's own screens); each lazy
// one loads on the first authenticated request to a table path under its prefixes
// (route-family.ts). None is imported before the port opens.
// A new family: add its route file, its table rows in shared/operations.ts, and a lazy(...)
// line here whose prefixes cover its paths and no other family's.
import { eager, lazy, type RouteFamily } from '../route-family.js';

const API = '/api/gateway';
const SYMPHONY = `${API}/symphony`;

export const routeFamilies: readonly RouteFamily[] = [
  eager('health', () => import('./health.js')),
  eager('pairing', () => import('./pairing.js')),
  eager('desktop', () => import('./desktop.js')),
  eager('processes', () => import('./processes.js')),
  eager('settings', () => import('./settings.js')),
  eager('repos', () => import('./repos.js')),
  eager('git', () => import('./git.js')),
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
